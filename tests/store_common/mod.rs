//! Realistic USMF-style governed runs for tests and benches, built in code.
//!
//! Until `fixtures/runs/` lands, tests generate their runs here. Every run is valid `signoff.run/v1`
//! and round-trips through `model::parse_run`.
#![allow(dead_code)]

pub mod backends;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use signoff::model::{
    Action, ActorId, ETag, Evidence, FieldValue, Fields, GovernedRun, LineSnapshot, Proposed, ProposedLine, RUN_FORMAT,
    Requester, RequesterKind, Route, RunId, Snapshot, Target,
};

/// An exact decimal from its text.
pub fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap_or_else(|e| panic!("test amount {text}: {e}"))
}

fn fields(pairs: &[(&str, FieldValue)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_string())
}

fn num(s: &str) -> FieldValue {
    FieldValue::Number(dec(s))
}

fn requested(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().unwrap_or_default() + Duration::seconds(i64::from(n) * 37)
}

fn etag(seed: &str) -> ETag {
    ETag(format!("W/\"JzEsNjg3MTk1MTIy{seed}Jw==\""))
}

fn base(id: &str, action: Action, n: u32, company: Option<&str>, keys: Fields) -> GovernedRun {
    let mut keys = keys;
    if let Some(company) = company {
        keys.insert("dataAreaId".into(), text(company));
    }
    let at = requested(n);
    GovernedRun {
        format: RUN_FORMAT.into(),
        id: RunId(id.into()),
        action,
        environment: "usmf-sandbox".into(),
        requester: Requester {
            id: ActorId("svc-ap-automation".into()),
            kind: RequesterKind::Automation,
            sponsor: Some(ActorId("julia.funderburk@contoso.com".into())),
        },
        requested_at: at,
        expires_at: at + Duration::days(7),
        justification: format!("Month-end close {n}: supplier confirmed the corrected coding by email."),
        target: Target {
            entity_set: action.entity_set().unwrap_or_default().into(),
            managed_object: action.managed_object().unwrap_or_default().into(),
            keys,
        },
        before: Snapshot {
            etag: etag("NjEn"),
            absent: false,
            captured_at: at,
            created_by: None,
            fields: Fields::new(),
            lines: vec![],
            enabled_roles: None,
        },
        proposed: Proposed::default(),
        evidence: vec![],
        route: Route { required_approvals: 1, eligible_groups: vec!["ap-approvers".into()] },
        rollback_hint: None,
        work_item: None,
        supersedes: None,
    }
}

/// A vendor invoice for `amount` (exact text) in `company`, with one line whose coding is corrected.
pub fn invoice(id: &str, n: u32, company: &str, amount: &str) -> GovernedRun {
    let invoice_no = format!("APINV-{:06}", n);
    let mut run =
        base(id, Action::ApproveVendorInvoice, n, Some(company), fields(&[("HeaderReference", text(&invoice_no))]));
    run.before.created_by = Some(ActorId("april.meyer@contoso.com".into()));
    run.before.fields = fields(&[
        ("InvoiceAccount", text(&format!("US-{}", 101 + n % 40))),
        ("InvoiceNumber", text(&format!("INV-{}", 40_000 + n))),
        ("ImportedAmount", num(amount)),
        ("Currency", text("USD")),
        ("DueDate", text("2026-04-01")),
    ]);
    let line_keys = fields(&[("HeaderReference", text(&invoice_no)), ("InvoiceLineNumber", num("1"))]);
    run.before.lines = vec![LineSnapshot {
        keys: line_keys.clone(),
        etag: etag("MTEn"),
        fields: fields(&[("NetAmount", num(amount)), ("MainAccount", text("605140-001-022"))]),
    }];
    run.proposed = Proposed {
        entity_set: Some("VendorInvoiceHeaders".into()),
        fields: fields(&[("DueDate", text("2026-04-15"))]),
        operation: None,
        parameters: Fields::new(),
        lines: vec![ProposedLine {
            keys: line_keys,
            fields: fields(&[("MainAccount", text("605150-001-022"))]),
            remove: false,
        }],
    };
    run.evidence = vec![Evidence {
        name: format!("{invoice_no}.pdf"),
        sha256: format!("{:064x}", u64::from(n) * 7919 + 1),
        uri: format!("https://contoso.sharepoint.com/ap/{invoice_no}.pdf"),
    }];
    run.rollback_hint = Some("recall the approval while the invoice is unposted".into());
    run
}

/// A balanced two-line general journal for `amount` in `company`.
pub fn journal(id: &str, n: u32, company: &str, amount: &str) -> GovernedRun {
    let batch = format!("{company}-{:06}", n).to_ascii_uppercase();
    let mut run = base(id, Action::PostJournal, n, Some(company), fields(&[("JournalBatchNumber", text(&batch))]));
    run.requester =
        Requester { id: ActorId("april.meyer@contoso.com".into()), kind: RequesterKind::Person, sponsor: None };
    run.before.fields = fields(&[
        ("JournalName", text("GenJrn")),
        ("JournalTotalDebit", num(amount)),
        ("AccountingCurrency", text("USD")),
    ]);
    run.before.lines = (1..=2)
        .map(|line| LineSnapshot {
            keys: fields(&[("JournalBatchNumber", text(&batch)), ("LineNumber", num(&line.to_string()))]),
            etag: etag("MjEn"),
            fields: if line == 1 {
                fields(&[("AccountDisplayValue", text("605140-001-022")), ("DebitAmount", num(amount))])
            } else {
                fields(&[("AccountDisplayValue", text("110110-001-022")), ("CreditAmount", num(amount))])
            },
        })
        .collect();
    run.proposed.entity_set = Some("LedgerJournalHeaders".into());
    run.route.required_approvals = 2;
    run.route.eligible_groups = vec!["gl-controllers".into()];
    run
}

/// A vendor bank-account change.
pub fn vendor_bank_change(id: &str, n: u32, company: &str) -> GovernedRun {
    let account = format!("US-{}", 101 + n % 40);
    let mut run = base(id, Action::UpdateVendor, n, Some(company), fields(&[("VendorAccountNumber", text(&account))]));
    run.before.fields =
        fields(&[("VendorName", text("Fabrikam Electronics")), ("BankAccountId", text("FAB-CHK-0042"))]);
    run.proposed = Proposed {
        entity_set: Some("VendorsV2".into()),
        fields: fields(&[("BankAccountId", text(&format!("FAB-CHK-{:04}", 43 + n % 100)))]),
        lines: vec![],
        ..Proposed::default()
    };
    run.route.required_approvals = 2;
    run.rollback_hint = Some("PATCH the previous bank account back".into());
    run
}

/// Disabling an F&O user (not company-scoped).
pub fn user_disable(id: &str, n: u32) -> GovernedRun {
    let mut run =
        base(id, Action::DisableUser, n, None, fields(&[("UserID", text(&format!("contractor{:03}", n % 1000)))]));
    run.before.fields = fields(&[("Enabled", text("Yes")), ("UserName", text("Temp contractor"))]);
    run.proposed = Proposed {
        entity_set: Some("SystemUsers".into()),
        fields: fields(&[("Enabled", text("No"))]),
        lines: vec![],
        ..Proposed::default()
    };
    run
}

/// `count` runs of every action across two legal entities, ids `RUN-{prefix}-000001`…
pub fn mixed_runs(prefix: &str, count: u32) -> Vec<GovernedRun> {
    const AMOUNTS: [&str; 6] = ["12.50", "1250000.00", "4711.10", "98765.43", "310.00", "27500.75"];
    (1..=count)
        .map(|n| {
            let id = format!("RUN-{prefix}-{n:06}");
            let company = if n % 3 == 0 { "usrt" } else { "usmf" };
            let amount = AMOUNTS[n as usize % AMOUNTS.len()];
            match n % 5 {
                0 | 1 => invoice(&id, n, company, amount),
                2 => journal(&id, n, company, amount),
                3 => vendor_bank_change(&id, n, company),
                _ => user_disable(&id, n),
            }
        })
        .collect()
}

/// Every run must pass the real parser, so the builder cannot drift from the format.
pub fn assert_parses(run: &GovernedRun) {
    let text = serde_json::to_string_pretty(run).unwrap_or_else(|e| panic!("serialize {}: {e}", run.id));
    match signoff::model::parse_run(&text, run.id.as_str()) {
        Ok(parsed) => assert_eq!(&parsed, run, "{} does not round-trip", run.id),
        Err(e) => panic!("builder run is invalid:\n{e}"),
    }
}

/// Write each run as `<id>.json` into `dir`; returns the paths.
pub fn write_runs(dir: &Path, runs: &[GovernedRun]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    runs.iter()
        .map(|run| {
            let path = dir.join(format!("{}.json", run.id));
            let text = serde_json::to_string_pretty(run).unwrap_or_else(|e| panic!("serialize {}: {e}", run.id));
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        })
        .collect()
}

/// A temp home for one CLI test: its own store and a config path that does not exist until a test
/// writes it (defaults apply), the `signoff` binary run inside it as the OS user `user`.
pub struct CliHome {
    pub dir: tempfile::TempDir,
    user: &'static str,
}

impl CliHome {
    pub fn new(user: &'static str) -> Self {
        CliHome { dir: tempfile::tempdir().unwrap(), user }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("data/store.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    /// The binary on this home's store and config; nothing from the caller's environment leaks in.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.arg("--store")
            .arg(self.store())
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("XDG_STATE_HOME", self.path("state"))
            .env("XDG_DATA_HOME", self.path("share"))
            .env("USER", self.user)
            .env_remove("SIGNOFF_STORE")
            .env_remove("SIGNOFF_CONFIG")
            .env_remove("SIGNOFF_APPROVER");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
    }

    /// Standard output of a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "signoff {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}
