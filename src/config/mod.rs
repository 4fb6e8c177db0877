//! The configuration file (TOML), as data. Loading, path resolution and secrets live in the submodules.
//!
//! Every struct denies unknown keys so that a typo is an error naming the key and its line.

pub mod connect_fields;
mod intake;
pub mod load;
mod normalise;
pub mod paths;
mod posting;
pub mod secret;
mod security;
mod spans;
mod store_location;
mod validate;
mod validate_auth;
mod validate_network;

use std::collections::BTreeMap;
use std::path::PathBuf;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use intake::{IntakeConfig, WorkItemFields, WorkflowIntake, WorkflowOutcomes, WorkflowParameters};
pub use posting::PostingMode;
pub use security::{RoleConflict, SecurityConfig};
pub use validate::{MANAGED_OBJECT_NAMES, OPERATION_NAMES};
pub(crate) use validate_auth::is_metadata_address;

/// A commented config template that loads as is: `signoff connector init` writes it out.
pub fn template() -> &'static str {
    include_str!("template.toml")
}

/// The whole configuration. Every section has defaults, so an empty file is valid (dry runs only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub approver: ApproverConfig,
    pub store: StoreConfig,
    pub environment: EnvironmentConfig,
    pub auth: AuthConfig,
    /// Managed objects by name: `vendor`, `vendor_invoice`, `ledger_journal`, `ledger_dimension`, `user`.
    pub managed_objects: BTreeMap<String, ManagedObject>,
    /// Decision operations by name: `invoice_approve`, `invoice_reject`, `invoice_recall`,
    /// `journal_post`, `journal_reject`, `journal_reverse`.
    pub operations: BTreeMap<String, Operation>,
    pub policy: PolicyConfig,
    pub ui: UiConfig,
    pub runs: RunsConfig,
    /// Where runs come from besides run files: F&O's own workflow inbox (`[intake.workflow]`).
    pub intake: IntakeConfig,
    /// Defaults for runs `signoff propose` makes.
    pub propose: ProposeConfig,
    /// `signoff connector connect`: overrides of the logical field names a connect payload uses.
    pub connect: ConnectConfig,
    /// Where F&O keeps users, roles and role assignments (role runs, segregation of duties).
    pub security: SecurityConfig,
}

/// How `signoff connector connect` reads a connect payload (docs/connect.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectConfig {
    /// Per managed object: logical field name → F&O field (`"BankAccountId"`, or `"line:NetAmount"` for a
    /// line field). Adds to, or replaces entries of, the built-in table (`config::connect_fields`).
    pub field_names: BTreeMap<String, BTreeMap<String, String>>,
}

/// Defaults for the runs `signoff propose` and `signoff runs recapture` build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProposeConfig {
    /// A proposed run expires this many days after it is requested (unless `--expires` says otherwise).
    pub expires_days: u32,
    /// The approval route per action, keyed by the propose verb (`approve-invoice`, `post-journal`,
    /// `update-vendor`, `enable-user`, `disable-user`); an action without one needs one approval from
    /// anyone eligible (policy may still ask for more).
    pub routes: BTreeMap<String, RouteConfig>,
}

impl Default for ProposeConfig {
    fn default() -> Self {
        ProposeConfig { expires_days: 7, routes: BTreeMap::new() }
    }
}

/// Who must approve a proposed run of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub required_approvals: u32,
    #[serde(default)]
    pub eligible_groups: Vec<String>,
}

impl ProposeConfig {
    /// The route a proposed run of `action` gets by default.
    pub fn route(&self, action: crate::model::Action) -> crate::model::Route {
        match self.routes.get(action.verb()) {
            Some(r) => crate::model::Route {
                required_approvals: r.required_approvals,
                eligible_groups: r.eligible_groups.clone(),
            },
            None => crate::model::Route { required_approvals: 1, eligible_groups: Vec::new() },
        }
    }
}

/// Who is approving, and how that is proven.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApproverConfig {
    /// The approver's identity as runs and F&O know it. With `identity = "ssh"` it only chooses among
    /// the identities the ssh-agent can prove; with no proof configured it defaults to `$USER`.
    pub id: Option<String>,
    /// Approval groups this approver belongs to (matched against a run's `eligible_groups`).
    pub groups: Vec<String>,
    /// How the approver's identity is proven; default: `ssh` when `allowed_signers` is set.
    pub identity: Option<IdentityMode>,
    /// git's allowed-signers file mapping approvers to SSH public keys; writable by an administrator only.
    pub allowed_signers: Option<PathBuf>,
    /// Approver identity → F&O user id (`"julia.funderburk@contoso.com" = "demoapprover"`): the user whose
    /// roles segregation of duties reads and whose workflow items the inbox shows. Entries of
    /// `[intake.workflow.users]` count too.
    pub fno_users: BTreeMap<String, String>,
    /// F&O roles that may approve each action, keyed by the action's short name or verb (`invoice`,
    /// `journal`, `assign-role`, …, or `*`): the approver must hold one of them, enabled. Empty: the
    /// F&O role rules are off.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Role pairs one approver may not hold together (only checked while `roles` is set).
    pub role_conflicts: Vec<RoleConflict>,
}

/// How the approver's identity is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityMode {
    /// Every decision is signed through ssh-agent and verified against `allowed_signers`.
    Ssh,
    /// The account name of the process's user, from the kernel: for single-user set-ups.
    OsUser,
}

impl ApproverConfig {
    /// The identity mode in force; `None` is the unproven claim kept for set-ups without either.
    pub fn identity_mode(&self) -> Option<IdentityMode> {
        self.identity.or(self.allowed_signers.as_ref().map(|_| IdentityMode::Ssh))
    }
}

/// Where the shared run store lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite file; default: `<data dir>/store.db`.
    pub path: Option<PathBuf>,
    /// A PostgreSQL store instead of the SQLite file: `postgres://user@host:port/database` (no password;
    /// that comes from `password_env`, `password_file` or `password_command`).
    pub url: Option<String>,
    /// The environment variable holding the PostgreSQL password.
    pub password_env: Option<String>,
    /// An owner-only file holding the PostgreSQL password.
    pub password_file: Option<PathBuf>,
    /// A command printing the PostgreSQL password (stopped after `auth.secret_command_timeout_secs`).
    pub password_command: Option<String>,
    /// How long a review lease lasts, in seconds.
    pub lease_secs: u64,
    /// How long a write waits for another process's write before the store is called busy, in seconds.
    pub busy_timeout_secs: u64,
    /// A unix group to share the store with (mode 0660); none: the store is owner-only (0600).
    pub group: Option<String>,
}

/// Run files handed to `signoff runs import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunsConfig {
    /// A larger run file is refused before it is read.
    pub max_file_bytes: u64,
}

/// The default [`RunsConfig::max_file_bytes`]: 10 MiB, hundreds of times a real run.
pub const DEFAULT_MAX_RUN_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// The largest `runs.max_file_bytes` accepted: 1 GiB (a run file is read whole into memory).
pub const MAX_RUN_FILE_BYTES: u64 = 1024 * 1024 * 1024;

impl Default for RunsConfig {
    fn default() -> Self {
        RunsConfig { max_file_bytes: DEFAULT_MAX_RUN_FILE_BYTES }
    }
}

/// The F&O environment decisions go to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentConfig {
    /// A short name runs refer to, e.g. `usmf-sandbox`.
    pub name: String,
    /// Base URL, e.g. `https://contoso-test.sandbox.operations.dynamics.com` (no trailing slash).
    pub url: Option<String>,
    pub kind: EnvironmentKind,
    /// Default legal entity, lowercase (`usmf`).
    pub default_company: Option<String>,
    /// Live writes to a production environment are refused unless this is true.
    pub allow_production_writes: bool,
    /// Per-request timeout, seconds.
    pub timeout_secs: u64,
    /// After a write's answer is lost, how long F&O may still apply it, seconds: reconciliation concludes
    /// "not applied" only `timeout_secs + settle_secs` after the answer was lost.
    pub settle_secs: u64,
    /// Retries for throttling (429) and unavailability (503) on idempotent requests.
    pub max_retries: u32,
    /// The most time spent waiting on `Retry-After` across one request's retries, seconds.
    pub max_retry_wait_secs: u64,
    /// The Microsoft cloud: login host and F&O domain (`global`, `usgov`, `china`; `germany` is refused).
    pub cloud: Option<Cloud>,
    /// A PEM bundle of extra trust roots (a company's TLS-inspection CA), added to the OS trust store.
    pub ca_file: Option<PathBuf>,
    /// SHA-256 of the server certificate's public key (SubjectPublicKeyInfo), base64 or hex; one or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub pinned_sha256: Vec<String>,
    /// An HTTPS proxy (`http://proxy.contoso.com:3128`), without credentials; else `HTTPS_PROXY` is used.
    pub proxy: Option<String>,
    /// An environment variable holding the proxy's `user:password`.
    pub proxy_credentials_env: Option<String>,
    /// An owner-only file holding the proxy's `user:password`.
    pub proxy_credentials_file: Option<PathBuf>,
    /// A command printing the proxy's `user:password`.
    pub proxy_credentials_command: Option<String>,
}

/// A string or an array of strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentKind {
    #[default]
    Sandbox,
    Production,
}

/// Microsoft Entra ID client credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Tenant GUID or domain (never `common` or `consumers`).
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    /// The cloud, as first configured here; `environment.cloud` is its place now (both may not differ).
    pub cloud: Option<Cloud>,
    /// Overrides the cloud's host, e.g. the simulator's `http://127.0.0.1:PORT`.
    pub authority_host: Option<String>,
    pub endpoint: TokenEndpoint,
    /// Name of an environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// A file holding the secret; must be readable by its owner only.
    pub client_secret_file: Option<PathBuf>,
    /// A command whose standard output is the secret (e.g. `pass show fno/signoff`).
    pub client_secret_command: Option<String>,
    /// A plain secret: refused unless the config file is readable by its owner only.
    pub client_secret: Option<String>,
    /// Delegated set-ups: a refresh token source (same three forms as the secret).
    pub refresh_token_env: Option<String>,
    /// A file holding the refresh token; must be readable by its owner only.
    pub refresh_token_file: Option<PathBuf>,
    /// A command whose standard output is the refresh token.
    pub refresh_token_command: Option<String>,
    /// A PEM file with the app's certificate and its RSA private key (owner-only): a signed client
    /// assertion is sent instead of a secret.
    pub client_certificate_file: Option<PathBuf>,
    /// Get tokens from the Azure VM's managed identity (instance metadata endpoint) instead of a secret.
    pub managed_identity: bool,
    /// The managed identity token endpoint; default the instance metadata service's.
    pub managed_identity_endpoint: Option<String>,
    /// How long a `*_command` secret source may run before it is stopped, seconds.
    pub secret_command_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    #[default]
    Global,
    Usgov,
    China,
    /// Microsoft Cloud Deutschland: closed on 2021-10-29. Named only so it can be refused with the reason.
    Germany,
}

impl Cloud {
    /// The Entra login host (FNO.md §1, "Authority hosts"); Germany has none any more.
    pub fn login_host(self) -> Option<&'static str> {
        match self {
            Cloud::Global => Some("https://login.microsoftonline.com"),
            Cloud::Usgov => Some("https://login.microsoftonline.us"),
            Cloud::China => Some("https://login.partner.microsoftonline.cn"),
            Cloud::Germany => None,
        }
    }

    /// Domain suffixes an F&O environment in this cloud lives under. Global and China follow FNO.md §9
    /// and the 21Vianet documentation; US Government hosts are unverified (FNO.md open question 11), so
    /// both `dynamics.us` and `dynamics.com` are accepted there.
    pub fn fno_domains(self) -> &'static [&'static str] {
        match self {
            Cloud::Global => &[".dynamics.com"],
            Cloud::Usgov => &[".dynamics.us", ".dynamics.com"],
            Cloud::China => &[".operations.dynamics.cn"],
            Cloud::Germany => &[],
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::Usgov => "usgov",
            Cloud::China => "china",
            Cloud::Germany => "germany",
        }
    }
}

/// Why `cloud = "germany"` is refused.
pub const GERMANY_CLOSED: &str = "Microsoft Cloud Deutschland closed on 2021-10-29 and has no login host any more; \
     its tenants moved to the global cloud (the Germany regions are part of it): set cloud = \"global\"";

impl Config {
    /// The cloud in force: `environment.cloud`, else `auth.cloud`, else global.
    pub fn cloud(&self) -> Cloud {
        self.environment.cloud.or(self.auth.cloud).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenEndpoint {
    #[default]
    V2,
    V1,
}

/// An entity signoff may write, and the fields it may write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagedObject {
    pub entity_set: String,
    /// Header fields that may be written.
    pub fields: Vec<String>,
    /// The line entity set, for invoices and journals.
    pub line_entity_set: Option<String>,
    /// Line fields that may be written.
    pub line_fields: Vec<String>,
    /// Fields that are high risk to change (e.g. bank account): a second approver is required.
    pub high_risk_fields: Vec<String>,
    /// `create-record` may create records of this object (default: no).
    pub allow_create: bool,
    /// `delete-record` may delete records of this object (default: no).
    pub allow_delete: bool,
    /// The entity sets whose records can reference a record of this object: a created record is rolled
    /// back (deleted) only while none of them references it, queried at rollback time. Unset: nothing is
    /// known about references, so a create cannot be rolled back (fail closed); `[]` says nothing can
    /// reference it.
    pub referenced_by: Option<Vec<Reference>>,
    /// Operations `execute-operation` may run on a record of this object, by name.
    pub operations: BTreeMap<String, RecordOperation>,
}

/// An entity set whose records reference a managed object's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub entity_set: String,
    /// The referencing set's field → the managed object's key field it holds (e.g.
    /// `{ dataAreaId = "dataAreaId", CustomerGroupId = "CustomerGroupId" }`).
    pub fields: BTreeMap<String, String>,
}

/// A bound action or custom service a managed object's records can be acted on with
/// (`dynamicsfinance.execute-operation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordOperation {
    pub kind: OperationKind,
    /// For a bound action: the action name (without namespace), bound to the object's entity set.
    #[serde(default)]
    pub action: Option<String>,
    /// For a custom service: `<Group>/<Service>/<Operation>`.
    #[serde(default)]
    pub service: Option<String>,
    /// The parameters a run may give, by logical name → the X++ parameter name. A key field of the
    /// object named here (`dataAreaId = "_company"`) is filled from the record's keys instead.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Another operation of the same object that undoes this one, called with the same parameters
    /// (those it declares) on rollback. Without one the operation cannot be rolled back.
    #[serde(default)]
    pub compensation: Option<String>,
}

/// A customer-specific decision operation (F&O has no standard approve/post API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub kind: OperationKind,
    /// For a bound action: the entity set it is bound to.
    #[serde(default)]
    pub entity_set: Option<String>,
    /// For a bound action: the action name (without namespace).
    #[serde(default)]
    pub action: Option<String>,
    /// For a custom service: `<Group>/<Service>/<Operation>`.
    #[serde(default)]
    pub service: Option<String>,
    /// Logical parameter (`comment`, `reason`, `reversal_date`, …) → the X++ parameter name.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// What the operation's answer carries, when the customer's operation says so.
    #[serde(default)]
    pub returns: Option<OperationReturns>,
    /// journal_post only: how an approved journal is posted (`post`, the default; `leave-for-batch`;
    /// `approve-only`). See [`PostingMode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PostingMode>,
    /// journal_post only, with a hand-over mode: the header fields the hand-over writes under `If-Match`
    /// (F&O has no standard field for it; the customer names theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover_fields: Option<BTreeMap<String, toml::Value>>,
}

/// What a decision operation answers with, as declared in `[operations.<name>] returns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationReturns {
    /// A journal post answers with the voucher numbers it posted (comma-separated, or an array), so
    /// they are recorded from the answer and not read back.
    Vouchers,
}

/// The decision operations signoff calls, named as in `[operations.<name>]`: one closed set, so no
/// file spells them as strings of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationName {
    InvoiceApprove,
    InvoiceReject,
    InvoiceRecall,
    JournalPost,
    JournalReject,
    JournalReverse,
}

impl OperationName {
    pub const ALL: [OperationName; 6] = [
        OperationName::InvoiceApprove,
        OperationName::InvoiceReject,
        OperationName::InvoiceRecall,
        OperationName::JournalPost,
        OperationName::JournalReject,
        OperationName::JournalReverse,
    ];

    /// The config key (`invoice_approve`).
    pub const fn as_str(self) -> &'static str {
        match self {
            OperationName::InvoiceApprove => "invoice_approve",
            OperationName::InvoiceReject => "invoice_reject",
            OperationName::InvoiceRecall => "invoice_recall",
            OperationName::JournalPost => "journal_post",
            OperationName::JournalReject => "journal_reject",
            OperationName::JournalReverse => "journal_reverse",
        }
    }
}

impl std::fmt::Display for OperationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Config {
    /// The configured operation `name`, if any.
    pub fn operation(&self, name: OperationName) -> Option<&Operation> {
        self.operations.get(name.as_str())
    }

    /// The F&O user the approver `approver` (a signed identity) is, from the one mapping; never guessed.
    pub fn fno_user_of(&self, approver: &str) -> Option<&str> {
        security::fno_user_of(&self.approver.fno_users, &self.intake.workflow.users, approver)
    }

    /// The operation `name` of managed object `object` (`[managed_objects.<object>.operations.<name>]`).
    pub fn record_operation(&self, object: &str, name: &str) -> Option<&RecordOperation> {
        self.managed_objects.get(object)?.operations.get(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationKind {
    BoundAction,
    CustomService,
}

/// Policy settings (see docs/policy.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Amount thresholds that raise the number of distinct approvers.
    pub quorum: Vec<QuorumRule>,
    /// How far an invoice amount may move before it is a soft verdict.
    pub invoice_amount_tolerance: Decimal,
    /// Closed posting periods, `YYYY-MM`, per company or `*`.
    pub closed_periods: Vec<ClosedPeriod>,
    /// A journal amount that is a multiple of this is flagged as round (advisory).
    pub round_amount_multiple: Decimal,
    /// Days before a month's end that count as period end (advisory).
    pub period_end_days: u32,
    /// Security roles whose assignment or revocation needs a second approver (e.g. "System
    /// administrator"), by name as F&O shows it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub high_risk_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumRule {
    /// Action wire name or short label (`invoice`, `journal`, …), or `*`.
    pub action: String,
    pub min_amount: Decimal,
    pub approvals: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedPeriod {
    /// `YYYY-MM`.
    pub period: String,
    /// Lowercase `dataAreaId`, or `*` for all companies.
    #[serde(default = "all_companies")]
    pub company: String,
}

fn all_companies() -> String {
    "*".into()
}

/// Terminal UI settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// A theme name from `themes/` or a path to a theme file.
    pub theme: String,
    pub color: ColorMode,
    /// Side-by-side diff below this width falls back to unified.
    pub split_min_width: u16,
    pub mouse: bool,
    pub clipboard: ClipboardMode,
    /// Key overrides: action name → keys (e.g. `approve = ["a"]`).
    pub keys: BTreeMap<String, Vec<String>>,
    /// Saved queue filters by name.
    pub filters: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    #[default]
    Auto,
    Truecolor,
    #[serde(rename = "256")]
    Ansi256,
    #[serde(rename = "16")]
    Ansi16,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipboardMode {
    #[default]
    Auto,
    Osc52,
    Off,
}

/// The longest lease `store.lease_secs` may ask for: a week (and far below what a timestamp can hold).
pub const MAX_LEASE_SECS: u64 = 7 * 24 * 3600;

impl StoreConfig {
    /// How the store file is shared, from `group`.
    pub fn access(&self) -> crate::store::StoreAccess {
        crate::store::StoreAccess { group: self.group.clone() }
    }
}

impl Config {
    /// The longest one request to F&O can take: every attempt timing out, plus the waits F&O may ask for.
    pub fn request_budget(&self) -> std::time::Duration {
        let env = &self.environment;
        let attempts = u64::from(env.max_retries) + 1;
        std::time::Duration::from_secs(
            env.timeout_secs.saturating_mul(attempts).saturating_add(env.max_retry_wait_secs),
        )
    }

    /// How long a decision's lease lasts from each renewal: `store.lease_secs`, but always longer than one
    /// request can take (with a margin of one timeout), so a lease never lapses while a write is in flight.
    pub fn lease_ttl(&self) -> std::time::Duration {
        let floor = self.request_budget() + std::time::Duration::from_secs(self.environment.timeout_secs);
        std::time::Duration::from_secs(self.store.lease_secs.min(MAX_LEASE_SECS)).max(floor)
    }

    /// After an answer was lost, how long until its absence in F&O proves it was not applied.
    pub fn settle_window(&self) -> std::time::Duration {
        let env = &self.environment;
        std::time::Duration::from_secs(env.timeout_secs.saturating_add(env.settle_secs))
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: None,
            url: None,
            password_env: None,
            password_file: None,
            password_command: None,
            lease_secs: 300,
            busy_timeout_secs: 10,
            group: None,
        }
    }
}

impl Default for EnvironmentConfig {
    fn default() -> Self {
        EnvironmentConfig {
            name: "default".into(),
            url: None,
            kind: EnvironmentKind::Sandbox,
            default_company: None,
            allow_production_writes: false,
            timeout_secs: 30,
            settle_secs: 120,
            max_retries: 3,
            max_retry_wait_secs: 60,
            cloud: None,
            ca_file: None,
            pinned_sha256: Vec::new(),
            proxy: None,
            proxy_credentials_env: None,
            proxy_credentials_file: None,
            proxy_credentials_command: None,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            tenant: None,
            client_id: None,
            cloud: None,
            authority_host: None,
            endpoint: TokenEndpoint::V2,
            client_secret_env: None,
            client_secret_file: None,
            client_secret_command: None,
            client_secret: None,
            refresh_token_env: None,
            refresh_token_file: None,
            refresh_token_command: None,
            client_certificate_file: None,
            managed_identity: false,
            managed_identity_endpoint: None,
            secret_command_timeout_secs: 30,
        }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            quorum: vec![QuorumRule { action: "*".into(), min_amount: Decimal::new(1_000_000, 2), approvals: 2 }],
            invoice_amount_tolerance: Decimal::ZERO,
            closed_periods: Vec::new(),
            round_amount_multiple: Decimal::new(1000, 0),
            period_end_days: 3,
            high_risk_roles: Vec::new(),
        }
    }
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: "default".into(),
            color: ColorMode::Auto,
            split_min_width: 100,
            mouse: false,
            clipboard: ClipboardMode::Auto,
            keys: BTreeMap::new(),
            filters: BTreeMap::new(),
        }
    }
}
