//! `signoff connector connect --payload` and `signoff connector status` through the real binary against
//! the simulator on loopback, in both dialects: the seed payload (logical field names) makes a working
//! config, validated and synced in one call; status walks the five activation steps as a rehearsal
//! proceeds (writes judged by the simulator's records and request log); a bad payload names its field and
//! writes nothing; the secret appears nowhere but its owner-only file.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use signoff::sim::{Dialect, SimOptions, Simulator};

use crate::pty_support::Session;

const SEED: &str = include_str!("../fixtures/connect/seed-payload.json");
const REQUESTER: &str = "april.meyer@contoso.com";
const APPROVER: &str = "amy.rhodes@contoso.com";

struct Home {
    dir: tempfile::TempDir,
    config: PathBuf,
    /// Every standard output and error seen, to search for the secret.
    seen: std::cell::RefCell<String>,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config").join("signoff.toml");
        Home { dir, config, seen: Default::default() }
    }

    fn signoff(&self, who: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.arg("--config").arg(&self.config).args(args);
        for k in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "SIGNOFF_CONFIG", "SIGNOFF_STORE"] {
            cmd.env_remove(k);
        }
        let out = cmd
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env("SIGNOFF_APPROVER", who)
            .env("SIGNOFF_LOG", "debug")
            .output()
            .unwrap();
        self.seen.borrow_mut().push_str(&text(&out));
        out
    }

    fn status(&self) -> Value {
        let out = self.signoff(APPROVER, &["--json", "connector", "status"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        json_of(&out)
    }

    fn write_payload(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// The seed payload pointed at the simulator: its login host and environment are the simulator's.
fn seed_for(sim: &Simulator) -> String {
    SEED.replace("https://login.microsoftonline.com", &sim.base_url())
        .replace("https://contoso-test.sandbox.operations.dynamics.com", &sim.base_url())
        .replace("sim-secret-do-not-use", &sim.options().client_secret)
}

fn states(status: &Value) -> Vec<String> {
    status["steps"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap().to_string()).collect()
}

/// Every file under `dir` but `except`, as bytes.
fn files_under(dir: &Path, except: &[PathBuf], out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, except, out);
        } else if !except.contains(&path) {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
}

fn writes(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.method != "GET" && !r.target.contains("/oauth2/")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_then_status_walks_the_five_steps_as_a_rehearsal_proceeds() {
    for dialect in Dialect::ALL {
        let options = SimOptions::for_dialect(dialect);
        let sim = Simulator::start(options.clone()).await.unwrap();
        let home = Home::new();
        std::fs::create_dir_all(home.config.parent().unwrap()).unwrap();
        if dialect == Dialect::Contoso {
            // Contoso's own config (its operation names, its store) pointing at an old environment: connect
            // updates the connection and the objects and keeps the rest.
            let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/sim/contoso.toml");
            let old = std::fs::read_to_string(fixture)
                .unwrap()
                .replace("{{BASE_URL}}", "https://contoso-old.sandbox.operations.dynamics.com");
            std::fs::write(&home.config, old).unwrap();
        }
        let payload = home.write_payload("connect.json", &seed_for(&sim));

        let out = home.signoff(APPROVER, &["--json", "connector", "connect", "--payload", &payload]);
        assert_eq!(out.status.code(), Some(0), "{dialect:?}: {}", text(&out));
        let connected = json_of(&out);
        assert_eq!(states(&connected), ["done", "done", "done", "pending", "pending"], "{connected:#}");
        assert_eq!(connected, home.status(), "connect --json prints what status prints");
        assert_eq!(connected["url"], sim.base_url());

        // The config the payload made: logical names mapped, the secret in an owner-only file it names.
        let config = signoff::config::load::load(&home.config).unwrap().config;
        let invoice = &config.managed_objects["vendor_invoice"];
        assert!(
            invoice.fields.contains(&"ImportedAmount".to_string()) && invoice.fields.contains(&"DueDate".to_string())
        );
        assert!(invoice.line_fields.contains(&"MainAccountDisplayValue".to_string()));
        assert_eq!(config.managed_objects["vendor"].high_risk_fields, ["BankAccountId"]);
        assert!(!config.managed_objects.contains_key("ledger_dimension"), "only the payload's objects");
        let secret_file = config.auth.client_secret_file.clone().expect("the config names the secret file");
        assert_eq!(std::fs::read_to_string(&secret_file).unwrap().trim(), options.client_secret);
        assert_eq!(std::fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777, 0o600);
        if dialect == Dialect::Contoso {
            let kept = std::fs::read_to_string(&home.config).unwrap();
            assert!(kept.contains("# Contoso's own names") && kept.contains("action = \"approveInvoiceWF\""), "{kept}");
            assert!(home.config.parent().unwrap().join("store.db").exists(), "the config's own store is used");
        }

        if dialect == Dialect::Signoff {
            // The TUI, in a terminal, says how far the connector is and what comes next.
            let data = home.dir.path().join("data");
            let args = ["--config", home.config.to_str().unwrap(), "--read-only"];
            let mut tui = Session::start_with(
                &args,
                &[("XDG_DATA_HOME", data.to_str().unwrap()), ("SIGNOFF_APPROVER", APPROVER)],
                30,
                140,
            );
            tui.wait_for(&["[setup 3/5: next first dry run]"]);
            tui.keys("q");
            assert!(tui.wait_exit().success());
        }

        // 4: a dry run shows the requests and sends nothing.
        let propose = home.signoff(
            REQUESTER,
            &[
                "propose",
                "approve-invoice",
                "APINV-000123",
                "--company",
                "usmf",
                "--set",
                "DueDate=2026-12-20",
                "--justification",
                "Matched to receipt; due date per the supplier's letter",
                "--id",
                "run-rehearsal-1",
                "--import",
            ],
        );
        assert_eq!(propose.status.code(), Some(0), "{}", text(&propose));
        assert_eq!(states(&home.status())[3], "pending", "proposing is not a dry run");
        let before = writes(&sim);
        let dry = home.signoff(APPROVER, &["approve", "run-rehearsal-1", "--reason", "rehearsal", "--dry-run"]);
        assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
        assert_eq!(writes(&sim), before, "a dry run writes nothing");
        let status = home.status();
        assert_eq!(states(&status), ["done", "done", "done", "done", "pending"]);
        assert_eq!(status["steps"][3]["run_id"], "run-rehearsal-1");

        // 5: the live sandbox write alone is not enough; its rollback completes the step.
        let keys = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
        let due_before = sim.record("VendorInvoiceHeaders", &keys).unwrap()["DueDate"].clone();
        let approve = home.signoff(APPROVER, &["approve", "run-rehearsal-1", "--reason", "Receipt and letter checked"]);
        assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
        assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["DueDate"], "2026-12-20T12:00:00Z");
        let status = home.status();
        assert_eq!(states(&status)[4], "pending");
        assert!(
            status["steps"][4]["detail"].as_str().unwrap().contains("signoff rollback run-rehearsal-1"),
            "{status:#}"
        );
        let rollback = home.signoff(APPROVER, &["rollback", "run-rehearsal-1", "--reason", "rehearsal undone"]);
        assert_eq!(rollback.status.code(), Some(0), "{}", text(&rollback));
        assert_eq!(sim.record("VendorInvoiceHeaders", &keys).unwrap()["DueDate"], due_before, "F&O holds the old date");
        let status = home.status();
        assert_eq!(states(&status), ["done"; 5], "{status:#}");
        assert_eq!(status["activated"], true);
        let write = &status["steps"][4];
        assert_eq!(write["run_id"], "run-rehearsal-1");
        assert!(write["rollback"]["seq"].as_i64() > write["seq"].as_i64(), "{write}");
        assert!(write["rollback"]["exchanges"].as_u64().unwrap() > 0, "{write}");
        let verify = home.signoff(APPROVER, &["audit", "verify"]);
        assert_eq!(verify.status.code(), Some(0), "the activation events are in the chain: {}", text(&verify));

        // The secret is in its owner-only file (and the caller's payload) and nowhere else.
        let secret = &options.client_secret;
        assert!(!home.seen.borrow().contains(secret.as_str()), "an output shows the secret");
        let mut all = Vec::new();
        files_under(home.dir.path(), &[secret_file.clone(), PathBuf::from(&payload)], &mut all);
        assert!(all.iter().any(|(p, _)| p.ends_with("signoff.log")), "the log was searched too");
        for (path, bytes) in all {
            assert!(!String::from_utf8_lossy(&bytes).contains(secret.as_str()), "{} holds the secret", path.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_payload_names_its_field_and_writes_nothing() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let home = Home::new();
    let good = seed_for(&sim);
    let vendor_fields = r#"["vendorName", "paymentTerms", "onHold", "bankAccountMask"]"#;
    let cases: Vec<(String, &str)> = vec![
        (
            good.replace(vendor_fields, r#"["vendorName", "paymentTerms", "invoiceAmout"]"#),
            "managedObjects[2].allowedFields[2]: unknown logical field 'invoiceAmout' for VendorsV2",
        ),
        (
            good.replace(r#""invoiceAmount", "dueDate""#, r#""invoiceAmout", "dueDate""#),
            "managedObjects[0].allowedFields[0]: unknown logical field 'invoiceAmout' for VendorInvoiceHeaders; did you mean 'invoiceAmount'?",
        ),
        (good.replace("\"clientSecret\"", "\"clientSecert\""), "clientSecert: unknown field `clientSecert`"),
        (
            good.replace("\"objectApiName\": \"VendorsV2\"", "\"objectApiName\": \"Vendors\""),
            "managedObjects[2].objectApiName: unknown object 'Vendors'",
        ),
        (
            good.replace("\"apiVersion\": \"4.0\"", "\"apiVersion\": \"v58.0\""),
            "apiVersion: 'v58.0' is not a version F&O speaks",
        ),
        (
            good.replace("\"isSandbox\": true", "\"isSandbox\": \"yes\""),
            "isSandbox: invalid type: string \"yes\", expected a boolean",
        ),
        (
            good.replace(
                &format!("\"instanceUrl\": \"{}\"", sim.base_url()),
                "\"instanceUrl\": \"http://contoso-test.example.com\"",
            ),
            "instanceUrl: ",
        ),
        (good.replace(&format!("{}/contoso.onmicrosoft.com", sim.base_url()), &sim.base_url()), "loginUrl: "),
        (
            good.replace("\"displayName\": \"Vendors\",", "\"displayName\": \"Vendors\", \"fieldMap\": {},"),
            "managedObjects[2].fieldMap: unknown field",
        ),
    ];
    for (payload, expected) in cases {
        let path = home.write_payload("bad.json", &payload);
        let out = home.signoff(APPROVER, &["connector", "connect", "--payload", &path]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{expected}: {shown}");
        assert!(shown.contains(expected) && shown.contains("nothing was written"), "{expected}:\n{shown}");
        let json = home.signoff(APPROVER, &["--json", "connector", "connect", "--payload", &path]);
        assert_eq!(json_of(&json)["error"]["code"], "usage", "{}", text(&json));
        let mut left = Vec::new();
        files_under(home.dir.path(), &[PathBuf::from(&path)], &mut left);
        let left: Vec<_> = left.iter().map(|(p, _)| p.clone()).filter(|p| !p.ends_with("signoff.log")).collect();
        assert!(left.is_empty(), "{expected}: nothing but the log is written, found {left:?}");
    }
    assert!(!home.seen.borrow().contains(sim.options().client_secret.as_str()), "an error echoed the secret");
}
