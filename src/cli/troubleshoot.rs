//! The troubleshooting report: one row (symptom → likely cause → fix) for each problem a connector check
//! met. The problems are classified in `fno::diagnosis`; the words for each kind live here, once.

use std::fmt::Write as _;

use serde::Serialize;

use crate::fno::diagnosis::{Kind, Problem};
use crate::text::visible;

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The check that met it (`token`, `instance`, `company`, `metadata`, …).
    pub check: String,
    /// The kind's stable name (`secret-expired`, `forbidden`, …).
    pub problem: &'static str,
    pub symptom: String,
    pub cause: String,
    pub fix: String,
}

/// The rows gathered by one command, each problem once, in the order met.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Add the row for `problem`, met by `check` (a problem already reported is not repeated).
    pub fn add(&mut self, check: &str, problem: &Problem) {
        let row = words(check, problem);
        if !self.rows.iter().any(|r| r.problem == row.problem && r.symptom == row.symptom) {
            self.rows.push(row);
        }
    }

    /// A report of rows already worded (a sync report's), to print as text.
    pub fn of_rows(rows: Vec<Row>) -> Report {
        Report { rows }
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The report as text: a heading, three lines per row, and where to look for more.
    pub fn text(&self, command: &str, log_file: &str) -> String {
        let mut out = String::new();
        if self.rows.is_empty() {
            return out;
        }
        let _ = writeln!(out, "\nTROUBLESHOOTING ({} problem(s) seen)", self.rows.len());
        for row in &self.rows {
            let _ = writeln!(out, "\n  [{}] (check: {})", row.problem, row.check);
            let _ = writeln!(out, "  symptom: {}", visible(&row.symptom));
            let _ = writeln!(out, "  cause:   {}", visible(&row.cause));
            let _ = writeln!(out, "  fix:     {}", visible(&row.fix));
        }
        let _ = writeln!(out, "\n{}", more_detail(command, log_file));
        out
    }
}

/// Where to find every request behind the rows.
pub fn more_detail(command: &str, log_file: &str) -> String {
    format!(
        "More detail: run `SIGNOFF_LOG=debug signoff {command}` to log every request to F&O and Entra with its \
         status (secrets masked) in {log_file}, or add --verbose to also see the log on standard error"
    )
}

fn row(check: &str, kind: Kind, symptom: String, cause: impl Into<String>, fix: impl Into<String>) -> Row {
    Row { check: check.to_string(), problem: kind.id(), symptom, cause: cause.into(), fix: fix.into() }
}

/// The words for one problem.
fn words(check: &str, problem: &Problem) -> Row {
    let kind = problem.kind();
    match problem {
        Problem::Config { message } => row(
            check,
            kind,
            format!("the F&O connection cannot be built from the config: {message}"),
            "a setting (or the secret it names) is missing or not usable",
            "correct the setting named above; `signoff config check` lists every problem in the config",
        ),
        Problem::Entra { code, message, .. } => entra_words(check, kind, *code, message),
        Problem::TokenEndpoint { url, reason, .. } if kind == Kind::ManagedIdentity => row(
            check,
            kind,
            format!("no answer from the managed identity endpoint {url}: {reason}"),
            "auth.managed_identity is set on a machine without an Azure managed identity (not an Azure VM, or \
             no identity assigned to it)",
            "run signoff on the Azure VM whose managed identity is federated to the app registration, or use \
             auth.client_certificate_file or a client secret instead",
        ),
        Problem::TokenEndpoint { url, reason, .. } => row(
            check,
            kind,
            format!("no answer from the Entra ID token endpoint {url}: {reason}"),
            "the authority host is wrong for the cloud, or the network (firewall, DNS) does not let this machine \
             reach it",
            "check environment.cloud and auth.authority_host; from this machine try the URL with curl; behind a \
             company proxy set [environment] proxy (or HTTPS_PROXY)",
        ),
        Problem::AppNotMapped { url, client_id } => {
            let app = client_id.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
            row(
                check,
                kind,
                format!("401 Unauthorized from F&O on {url}, even with a fresh token"),
                format!(
                    "the app registration{app} is not mapped in F&O's Microsoft Entra ID applications form (table \
                     SysAADClientTable), so F&O does not know which F&O user it acts as; less often, the token's \
                     audience is not this environment"
                ),
                format!(
                    "in F&O open System administration > Setup > Microsoft Entra ID applications, add Client Id{app} \
                     with a Name and the User ID of an enabled integration user; check environment.url is exactly \
                     the environment's base URL"
                ),
            )
        }
        Problem::Forbidden { entity, user, infolog } => {
            let who = user.as_deref().map(|u| format!("F&O user {u}")).unwrap_or_else(|| "the F&O user".into());
            let said = infolog.as_deref().map(|t| format!(" F&O said: {t}")).unwrap_or_default();
            row(
                check,
                kind,
                format!("403 Forbidden from F&O on {entity}.{said}"),
                format!(
                    "the {who} that the app acts as has no security role granting a privilege on the data entity \
                     behind {entity} for the Data services integration mode (OData access is secured apart from \
                     the pages)"
                ),
                format!(
                    "in F&O open System administration > Security > Security configuration and give a role of {who} \
                     a privilege whose entry point is the data entity behind {entity}, with Integration mode \"Data \
                     services\" (or \"All\") and the access the actions need (Read to read, Update to approve); or \
                     assign a role that has one (System administration > Users > Assign roles)"
                ),
            )
        }
        Problem::EmptyReads { user, company, entity_sets, found_in } => {
            let who = user.as_deref().map(|u| format!("F&O user {u}")).unwrap_or_else(|| "the F&O user".into());
            let target = found_in.first().map(String::as_str).unwrap_or("the legal entity your runs use");
            row(
                check,
                kind,
                format!(
                    "reads of {} in the default company ({company}) return no rows, while company {} holds some",
                    entity_sets.join(", "),
                    found_in.join(", ")
                ),
                format!(
                    "the {who} that the app acts as has default company {company}; F&O answers a read in the \
                     caller's default company unless it asks cross-company"
                ),
                format!(
                    "in F&O open System administration > Users, select {} and set Company to {target}; keep \
                     [environment] default_company the same",
                    user.as_deref().unwrap_or("the app's user")
                ),
            )
        }
        Problem::MissingEntity { mismatch } => row(
            check,
            kind,
            mismatch.clone(),
            "the entity set or field is not in this environment's $metadata: misspelt (names are case-sensitive), \
             not public, or not deployed here",
            "correct the name in [managed_objects] (a \"did you mean\" name is in $metadata), or deploy the entity; \
             then run `signoff connector sync-metadata` again",
        ),
        Problem::MissingOperation { operation, mismatch } => row(
            check,
            kind,
            mismatch.clone(),
            format!(
                "the decision operation `{operation}` names a bound action, custom service or parameter this \
                 environment does not have; F&O has no standard approve or post API, so it comes from the \
                 customer's own extension"
            ),
            format!(
                "deploy the extension that provides it to this environment, or correct [operations.{operation}] \
                 (entity_set, action, service path, parameter names) to what the environment has; then run \
                 `signoff connector sync-metadata` again"
            ),
        ),
        Problem::Tls { host, fault } => tls_words(check, kind, host, &fault.to_string()),
        Problem::Proxy { proxy, reason, .. } if kind == Kind::ProxyAuth => row(
            check,
            kind,
            format!("the proxy {proxy} refused the tunnel: 407 Proxy Authentication Required ({reason})"),
            "the proxy needs credentials and none, or wrong ones, were sent",
            "set [environment] proxy_credentials_env, _file or _command (user:password), or put the credentials \
             in HTTPS_PROXY",
        ),
        Problem::Proxy { proxy, reason, .. } => row(
            check,
            kind,
            format!("no connection through the proxy {proxy}: {reason}"),
            "the proxy address is wrong, the proxy is down, or it refused the destination",
            "check [environment] proxy (or HTTPS_PROXY and NO_PROXY); `curl -x <proxy> <environment url>` from this \
             machine shows the same",
        ),
        Problem::Throttled { url, status, attempts, waited, retry_after } => row(
            check,
            kind,
            format!(
                "{status} {} from F&O on {url}, still after {attempts} attempt(s) and {}s of waiting; the last \
                 Retry-After was {}s",
                if *status == 429 { "Too Many Requests" } else { "Service Unavailable" },
                waited.as_secs(),
                retry_after.as_secs()
            ),
            "F&O's service protection limits were reached, by signoff or by other integrations under the same \
             user or on the same environment",
            "wait at least the Retry-After time and try again; run fewer decisions at once; raise [environment] \
             max_retries and max_retry_wait_secs so signoff waits longer; ask the F&O administrator about the app's \
             Throttling priority mapping",
        ),
        Problem::Unreachable { url, reason } => row(
            check,
            kind,
            format!("no answer from F&O at {url}: {reason}"),
            "environment.url is wrong, the environment is stopped or being serviced, or the network does not let \
             this machine reach it",
            "check environment.url from this machine (curl or a browser); behind a company proxy set [environment] \
             proxy (or HTTPS_PROXY)",
        ),
        Problem::FnoFailed { message } => row(
            check,
            kind,
            format!("F&O failed: {message}"),
            "an F&O answer not in this table; the message above is F&O's own (its Infolog text when it sent one)",
            "apply what F&O's message names; the requests and answers are in the log (see below)",
        ),
    }
}

fn entra_words(check: &str, kind: Kind, code: Option<u64>, message: &str) -> Row {
    let aadsts = code.map(|c| format!("AADSTS{c}")).unwrap_or_else(|| "no AADSTS code".into());
    let (what, cause, fix): (&str, String, String) = match kind {
        Kind::SecretWrong => (
            "invalid client secret",
            "the configured client secret is wrong, or it is the secret's ID instead of its value".into(),
            "in the Azure portal open the app registration > Certificates & secrets, create a new client secret and \
             configure its Value (not its Secret ID) where auth.client_secret_env, _file or _command reads it"
                .into(),
        ),
        Kind::SecretExpired => (
            "client secret expired",
            "the app registration's client secret is past its expiry date".into(),
            "in the Azure portal open the app registration > Certificates & secrets, create a new client secret and \
             configure its value (or move to auth.client_certificate_file); then run `signoff connector validate`"
                .into(),
        ),
        Kind::AppNotInTenant => (
            "application not found in the directory",
            "auth.client_id names an app that is not registered (or not consented) in tenant auth.tenant".into(),
            "copy the Application (client) ID from the app registration's Overview page into auth.client_id, and \
             check auth.tenant is the tenant it lives in"
                .into(),
        ),
        Kind::TenantNotFound => (
            "tenant not found",
            "auth.tenant is misspelt, or belongs to another cloud".into(),
            "set auth.tenant to the Directory (tenant) ID or the primary domain (contoso.onmicrosoft.com), and check \
             environment.cloud"
                .into(),
        ),
        Kind::ResourceNotFound => (
            "resource principal not found",
            "environment.url is not the F&O environment's base URL: the token is asked for that URL".into(),
            "set environment.url to the exact base URL, e.g. https://contoso-test.sandbox.operations.dynamics.com, \
             without /data or a trailing slash"
                .into(),
        ),
        Kind::CertificateRejected => (
            "client assertion refused",
            "the certificate in auth.client_certificate_file is not registered on the app, or the key in the file \
             is not its key"
                .into(),
            "upload the certificate's public part under the app registration's Certificates & secrets > \
             Certificates, or point auth.client_certificate_file at the registered certificate"
                .into(),
        ),
        Kind::EntraBusy => (
            "Entra ID busy",
            "Entra ID throttled the token requests or was degraded, on every retry".into(),
            "try again in a few minutes (status: https://status.azure.com)".into(),
        ),
        Kind::ManagedIdentity => (
            "managed identity refused",
            message.to_string(),
            "check the VM has a managed identity (system-assigned, or user-assigned with its client ID in \
             auth.client_id) and that environment.url is the F&O base URL"
                .into(),
        ),
        _ => (
            "token request refused",
            message.to_string(),
            match code {
                Some(c) => format!(
                    "look AADSTS{c} up at https://login.microsoftonline.com/error?code={c}; check auth.tenant, \
                     auth.client_id and the credential"
                ),
                None => "check auth.tenant, auth.client_id and the credential".into(),
            },
        ),
    };
    row(check, kind, format!("Entra ID refused the token request: {aadsts} ({what})"), cause, fix)
}

fn tls_words(check: &str, kind: Kind, host: &str, fault: &str) -> Row {
    let (cause, fix) = match kind {
        Kind::TlsUntrusted => (
            "the certificate chain ends at a CA signoff does not trust: usually a company proxy that inspects TLS \
             and signs with the company's own CA",
            "add the company CA: [environment] ca_file = \"/path/to/company-ca.pem\" (or install it in the OS trust \
             store)",
        ),
        Kind::TlsPinMismatch => (
            "the server's key is not the pinned one: the certificate was renewed with a new key, or something \
             intercepts the connection",
            "check with whoever runs the server first; then put the new pin `connector validate` shows in \
             [environment] pinned_sha256",
        ),
        Kind::TlsExpired => (
            "the server's certificate is outside its validity period, or this machine's clock is wrong",
            "check the clock (NTP); then tell whoever runs the server",
        ),
        _ => (
            "the certificate is not valid for this host name, or was refused for another reason",
            "check environment.url and auth.authority_host for a typo, and whether a proxy presents its own \
             certificate",
        ),
    };
    row(check, kind, format!("TLS refused with {host}: {fault}"), cause, fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_problem_met_twice_is_one_row() {
        let mut report = Report::default();
        let p = Problem::Unreachable { url: "https://usmf.example/data".into(), reason: "connection refused".into() };
        report.add("token", &p);
        report.add("instance", &p);
        assert_eq!(report.rows().len(), 1);
        assert_eq!(report.rows()[0].check, "token");
    }

    #[test]
    fn no_problem_no_report() {
        assert_eq!(Report::default().text("connector validate", "/tmp/x.log"), "");
    }
}
