//! The real binary on a PostgreSQL store (`[store] url`, the password from `[store] password_env`):
//! sync the metadata, import run files, list them, approve one against the simulator, verify the chain.
//! Skipped loudly without `SIGNOFF_TEST_PG`; a failure under `CI=true` (see `common::backends`).

use crate::common;
use crate::review_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use signoff::store::Store;

use review_support::{APPROVER, Harness, propose_vendor_us104};

pub(crate) const SECRET_VAR: &str = "SIGNOFF_E2E_PG_SECRET";
pub(crate) const PASSWORD_VAR: &str = "SIGNOFF_E2E_PG_PASSWORD";

/// The harness's config with the store on PostgreSQL at `url`, its password named by [`PASSWORD_VAR`].
pub(crate) fn write_pg_config(h: &Harness, url: &str) -> PathBuf {
    let mut config = (*h.config).clone();
    config.auth.client_secret_env = Some(SECRET_VAR.into());
    config.store.path = None;
    config.store.url = Some(url.into());
    config.store.password_env = Some(PASSWORD_VAR.into());
    let path = h.dir.path().join("config-pg.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    path
}

/// The binary on `config` and nothing else: no `--store`, so the config's `store.url` decides.
fn signoff(h: &Harness, config: &Path, password: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env(SECRET_VAR, &h.sim.options().client_secret)
        .env(PASSWORD_VAR, password)
        .env("SIGNOFF_APPROVER", APPROVER)
        .env("XDG_STATE_HOME", h.dir.path().join("state"))
        .env("XDG_DATA_HOME", h.dir.path().join("data"))
        .env_remove("SIGNOFF_CONFIG")
        .env_remove("SIGNOFF_STORE")
        .output()
        .unwrap()
}

pub(crate) fn ok(h: &Harness, config: &Path, password: &str, args: &[&str]) -> String {
    let out = signoff(h, config, password, args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "signoff {args:?} failed: {text}");
    assert!(!text.contains(password), "the store password leaked: {text}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_list_approve_and_verify_on_postgres_through_the_binary() {
    // The schema is made on a runtime of its own, off this test's runtime.
    let target = std::thread::spawn(|| common::backends::pg_target("e2e_postgres")).join().unwrap();
    let Some(target) = target else { return };
    let password = target.password.as_ref().unwrap().expose().to_string();
    let h = Harness::start().await;
    let config = write_pg_config(&h, &target.url);

    let checked = ok(&h, &config, &password, &["config", "check"]);
    assert!(checked.contains("store password"), "{checked}");
    ok(&h, &config, &password, &["connector", "sync-metadata"]);

    // The fixtures, and one run built from the simulator's live vendor (imported into the harness's own
    // SQLite store too, which this test never reads).
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs");
    let fixture_count = std::fs::read_dir(&fixtures).unwrap().count();
    let imported = ok(&h, &config, &password, &["runs", "import", fixtures.to_str().unwrap()]);
    assert!(imported.contains(&format!("imported {fixture_count} run(s)")), "{imported}");
    let keys = propose_vendor_us104(&h, "RUN-PG-VND", 1);
    let run = h.store().get(&"RUN-PG-VND".into()).unwrap().unwrap().run;
    let run_dir = h.dir.path().join("pg-runs");
    common::write_runs(&run_dir, std::slice::from_ref(&run));
    ok(&h, &config, &password, &["runs", "import", run_dir.to_str().unwrap()]);

    // The list comes from PostgreSQL: the SQLite file the harness keeps has no fixture in it.
    let listed: Vec<Value> = serde_json::from_str(&ok(&h, &config, &password, &["--json", "runs", "list"])).unwrap();
    assert_eq!(listed.len(), fixture_count + 1);
    assert_eq!(h.store().count_runs().unwrap(), 1);

    h.sim.clear_requests();
    let approved = ok(&h, &config, &password, &["--json", "approve", "RUN-PG-VND", "--reason", "Letter verified"]);
    let outcome: Value = serde_json::from_str(&approved).unwrap();
    assert_eq!(outcome["outcome"], "executed", "{approved}");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
    assert_eq!(h.writes().len(), 1, "one write in the simulator's log: {:?}", h.writes());

    // The decision is in PostgreSQL, and the chain holds there.
    let pg = Store::open_postgres(&target).unwrap();
    assert_eq!(pg.get(&"RUN-PG-VND".into()).unwrap().unwrap().status, signoff::model::RunStatus::Executed);
    let verified = ok(&h, &config, &password, &["audit", "verify"]);
    assert!(verified.contains("audit chain verified"), "{verified}");
    assert_eq!(pg.verify_audit().unwrap().events, pg.audit_head().unwrap().unwrap().0 as u64);

    // `--store postgres://…` selects the same database; a wrong password is an error naming the store.
    let shown = ok(&h, &config, &password, &["--store", &target.url, "runs", "list"]);
    assert!(shown.contains("RUN-PG-VND"), "{shown}");
    let refused = signoff(&h, &config, "not-the-password", &["runs", "list"]);
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && text.contains("PostgreSQL"), "{text}");
}

#[test]
fn a_password_in_the_store_url_is_refused_naming_the_fix_and_never_shown() {
    let home = common::CliHome::new("april.meyer");
    let url = "postgres://signoff:hunter2@db.example:5432/signoff";
    std::fs::write(home.config(), format!("[store]\nurl = \"{url}\"\n")).unwrap();
    let run = |args: &[&str]| {
        // `CliHome::command` passes `--store <file>`; these run on the config's store alone.
        let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
            .args(["--config", home.config().to_str().unwrap()])
            .args(args)
            .env("XDG_STATE_HOME", home.path("state"))
            .env("XDG_DATA_HOME", home.path("share"))
            .env_remove("SIGNOFF_STORE")
            .env_remove("SIGNOFF_CONFIG")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!text.contains("hunter2"), "the password was shown: {text}");
        (out.status.code(), text)
    };

    let (code, text) = run(&["config", "check"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("store.url") && text.contains("password_env"), "{text}");

    // The same URL on the command line is refused before any connection, also naming the fix.
    std::fs::write(home.config(), "").unwrap();
    let (code, text) = run(&["--store", url, "runs", "list"]);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("contains a password") && text.contains("password_env"), "{text}");
}
