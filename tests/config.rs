//! Config loading, secrets, paths and `signoff config path|check`, through the library and the real binary.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use signoff::config::load::{ConfigError, load};
use signoff::config::secret::{DEFAULT_COMMAND_TIMEOUT, SecretError, SecretSource, redact, resolve};
use signoff::config::{Config, template};

const SECRET: &str = "Qx8~k2.Zs9_LmN4opR7tUvW1";

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config").join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("chmod: {e}"));
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

/// The real binary with a clean environment: only PATH, HOME and what the test adds.
fn signoff(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_signoff"));
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).env("HOME", home);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap_or_else(|e| panic!("run signoff: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_valid_fixture_loads() {
    let files = fixtures("valid");
    assert!(files.len() >= 5);
    for file in files {
        if let Err(e) = load(&file) {
            panic!("{} should load:\n{e}", file.display());
        }
    }
}

#[test]
fn every_invalid_fixture_is_refused_naming_the_key_and_its_line() {
    let files = fixtures("invalid");
    assert!(files.len() >= 15);
    for file in files {
        let source = fs::read_to_string(&file).unwrap_or_default();
        let expected: Vec<&str> = source.lines().filter_map(|l| l.strip_prefix("# expect: ")).collect();
        assert!(!expected.is_empty(), "{} has no `# expect:` line", file.display());
        let message = match load(&file) {
            Ok(_) => panic!("{} should be refused", file.display()),
            Err(e) => e.to_string(),
        };
        for want in expected {
            assert!(message.contains(want), "{}: missing {want:?} in:\n{message}", file.display());
        }
        for never in source.lines().filter_map(|l| l.strip_prefix("# never: ")) {
            assert!(!message.contains(never), "{}: {never:?} leaked into:\n{message}", file.display());
        }
    }
}

#[test]
fn all_problems_in_one_file_are_reported_in_line_order() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/invalid/every-problem-is-reported.toml");
    let Err(ConfigError::Invalid { problems, .. }) = load(&file) else { panic!("must be invalid") };
    let lines: Vec<usize> = problems.iter().filter_map(|p| p.line).collect();
    assert_eq!(lines, vec![9, 12, 13, 16, 21]);
}

#[test]
fn the_template_loads_and_names_an_environment_variable_for_the_secret() {
    let dir = temp();
    let file = dir.path().join("config.toml");
    write(&file, template(), 0o600);
    let loaded = load(&file).unwrap_or_else(|e| panic!("template must load:\n{e}"));
    assert_eq!(loaded.config.auth.client_secret_env.as_deref(), Some("SIGNOFF_CLIENT_SECRET"));
    assert_eq!(loaded.config.auth.client_secret, None);
    for name in
        ["invoice_approve", "invoice_reject", "invoice_recall", "journal_post", "journal_reject", "journal_reverse"]
    {
        assert!(loaded.config.operations.contains_key(name), "template lacks operation {name}");
    }
    assert!(template().contains("Microsoft Entra ID applications"));
    assert_ne!(loaded.config, Config::default());
}

const PLAIN_SECRET_CONFIG: &str = "[environment]\nurl = \"https://contoso-test.sandbox.operations.dynamics.com\"\n\n\
     [auth]\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"8f2d1c3e-5150-4f0a-9c1e-7a1b2c3d4e5f\"\n\
     client_secret = \"Qx8~k2.Zs9_LmN4opR7tUvW1\"\n";

#[test]
fn a_plain_secret_in_a_group_readable_config_is_refused_and_never_shown() {
    let dir = temp();
    let file = dir.path().join("config.toml");
    write(&file, PLAIN_SECRET_CONFIG, 0o640);
    let message = match load(&file) {
        Ok(_) => panic!("group-readable plain secret must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains(":7:1: a plain client_secret is refused"), "{message}");
    assert!(message.contains("mode 0640") && message.contains("chmod 600"), "{message}");
    assert!(message.contains("client_secret_env"), "{message}");
    assert!(!message.contains(SECRET), "{message}");

    // The same through the binary: neither stream, nor the log file, carries the value.
    let out = signoff(dir.path(), &[], &["--config", &file.to_string_lossy(), "config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let log = fs::read_to_string(dir.path().join(".local/state/signoff/signoff.log")).unwrap_or_default();
    for stream in [text(&out.stdout), text(&out.stderr), log] {
        assert!(!stream.contains(SECRET), "secret leaked: {stream}");
    }
    assert!(text(&out.stderr).contains("chmod 600"));
}

#[test]
fn a_plain_secret_in_an_owner_only_config_is_accepted() {
    let dir = temp();
    let file = dir.path().join("config.toml");
    write(&file, PLAIN_SECRET_CONFIG, 0o600);
    let loaded = load(&file).unwrap_or_else(|e| panic!("owner-only plain secret loads:\n{e}"));
    let source = loaded.config.auth.client_secret_source();
    assert!(matches!(source, Some(SecretSource::Plain(_))));
    assert!(!format!("{source:?}").contains(SECRET), "Debug shows the secret");
}

#[test]
fn a_secret_file_readable_by_others_is_refused_with_its_mode_and_the_fix() {
    let dir = temp();
    let file = dir.path().join("fno-client-secret");
    write(&file, &format!("{SECRET}\n"), 0o644);
    let err = resolve(&SecretSource::File(file.clone())).err();
    assert!(matches!(err, Some(SecretError::FileMode { mode: 0o644, .. })), "{err:?}");
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("mode 0644") && message.contains(&format!("chmod 600 {}", file.display())), "{message}");
    assert!(!message.contains(SECRET));

    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap_or_else(|e| panic!("chmod: {e}"));
    let secret = resolve(&SecretSource::File(file)).unwrap_or_else(|e| panic!("owner-only file reads: {e}"));
    assert_eq!(secret.expose(), SECRET, "the trailing newline is trimmed");
}

#[test]
fn a_secret_command_prints_the_secret_and_a_failing_one_never_leaks_its_stdout() {
    let command = |text: String| SecretSource::Command { command: text, timeout: DEFAULT_COMMAND_TIMEOUT };
    let ok = resolve(&command(format!("printf '  {SECRET}\\n'")));
    assert_eq!(ok.map(|s| s.expose().to_string()).ok().as_deref(), Some(SECRET));

    let failing =
        format!("echo {SECRET}; echo 'gpg: decryption failed: No secret key' >&2; echo hint-on-line-two >&2; exit 3");
    let err = resolve(&command(failing)).err();
    let message = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(matches!(err, Some(SecretError::CommandFailed { .. })), "{err:?}");
    assert!(message.contains("failed (exit status 3): gpg: decryption failed: No secret key"), "{message}");
    assert!(!message.contains("failed (exit status 3): gpg: decryption failed: No secret key\nhint"), "{message}");
    assert!(message.ends_with("No secret key"), "only the first stderr line: {message}");
    // Neither what the command printed nor its text (which may hold a secret) is shown.
    assert!(!message.contains(SECRET), "stdout or the command leaked: {message}");

    let empty = resolve(&command("true".into())).err();
    assert!(matches!(empty, Some(SecretError::CommandEmpty)), "{empty:?}");
}

#[test]
fn a_missing_environment_variable_is_named_but_nothing_else_is_shown() {
    let err = resolve(&SecretSource::Env("SIGNOFF_TEST_SURELY_UNSET_4F0A".into())).err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("SIGNOFF_TEST_SURELY_UNSET_4F0A is not set"), "{message}");
}

#[test]
fn redact_scrubs_every_secret_from_error_text() {
    let secret = signoff::config::secret::Secret::new(SECRET);
    let line = format!("POST /oauth2/v2.0/token client_secret={SECRET} failed");
    assert_eq!(redact(&line, &[&secret]), "POST /oauth2/v2.0/token client_secret=*** failed");
}

fn path_json(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["config", "path", "--json"]);
    let out = signoff(home, vars, &all);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", text(&out.stdout)))
}

#[test]
fn config_path_json_follows_signoff_config_and_the_xdg_variables() {
    let dir = temp();
    let home = dir.path();
    let p = |s: &str| home.join(s).to_string_lossy().into_owned();

    let v = path_json(home, &[], &[]);
    assert_eq!(v["config_file"], p(".config/signoff/config.toml"));
    assert_eq!(v["config_exists"], false);
    assert_eq!(v["data_dir"], p(".local/share/signoff"));
    assert_eq!(v["state_dir"], p(".local/state/signoff"));
    assert_eq!(v["store"], p(".local/share/signoff/store.db"));
    assert_eq!(v["log_file"], p(".local/state/signoff/signoff.log"));

    let xdg =
        [("XDG_CONFIG_HOME", p("xdg/config")), ("XDG_DATA_HOME", p("xdg/data")), ("XDG_STATE_HOME", p("xdg/state"))];
    let xdg: Vec<(&str, &str)> = xdg.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let v = path_json(home, &xdg, &[]);
    assert_eq!(v["config_file"], p("xdg/config/signoff/config.toml"));
    assert_eq!(v["config_from"], "XDG_CONFIG_HOME");
    assert_eq!(v["store"], p("xdg/data/signoff/store.db"));
    assert_eq!(v["log_file"], p("xdg/state/signoff/signoff.log"));

    let usmf = p("usmf.toml");
    write(Path::new(&usmf), "[store]\npath = \"stores/usmf.db\"\n", 0o600);
    let mut with_signoff_config = xdg.clone();
    with_signoff_config.push(("SIGNOFF_CONFIG", &usmf));
    let v = path_json(home, &with_signoff_config, &[]);
    assert_eq!(v["config_file"], usmf);
    assert_eq!(v["config_exists"], true);
    assert_eq!(v["store"], p("stores/usmf.db"), "a relative store path follows the config file");

    let explicit = p("explicit.toml");
    let v = path_json(home, &with_signoff_config, &["--config", &explicit, "--store", "/srv/signoff/shared.db"]);
    assert_eq!(v["config_file"], explicit);
    assert_eq!(v["config_from"], "--config");
    assert_eq!(v["store"], "/srv/signoff/shared.db");
}

#[test]
fn config_check_exits_0_when_usable_1_on_problems_and_2_on_usage() {
    let dir = temp();
    let home = dir.path();
    let good = home.join("good.toml");
    write(&good, template(), 0o600);
    let good_s = good.to_string_lossy().into_owned();

    let out = signoff(home, &[("SIGNOFF_CLIENT_SECRET", SECRET)], &["--config", &good_s, "config", "check"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(&format!("config OK: {good_s}\n")), "{stdout}");
    assert!(stdout.contains("environment variable SIGNOFF_CLIENT_SECRET"), "{stdout}");
    assert!(!stdout.contains(SECRET) && !text(&out.stderr).contains(SECRET));

    // The same file without the variable: the unresolvable secret is a problem.
    let out = signoff(home, &[], &["--config", &good_s, "config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("SIGNOFF_CLIENT_SECRET is not set"), "{}", text(&out.stderr));

    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/invalid/every-problem-is-reported.toml");
    let out = signoff(home, &[], &["--config", &bad.to_string_lossy(), "config", "check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(5), "{v}");
    assert_eq!(v["problems"][0]["key"], "store.lease");
    assert_eq!(v["problems"][0]["line"], 9);

    let missing = home.join("nowhere.toml").to_string_lossy().into_owned();
    let out = signoff(home, &[], &["--config", &missing, "config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("signoff connector init"), "{}", text(&out.stderr));

    let out = signoff(home, &[], &["config", "chekc"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn logs_go_to_the_state_file_and_reach_the_terminal_only_with_verbose() {
    let dir = temp();
    let home = dir.path();
    let state = home.join("state").to_string_lossy().into_owned();
    let vars = [("XDG_STATE_HOME", state.as_str())];

    let quiet = signoff(home, &vars, &["config", "path"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stderr.is_empty(), "stderr without --verbose: {}", text(&quiet.stderr));
    assert!(!text(&quiet.stdout).contains("INFO"));
    let log_file = home.join("state/signoff/signoff.log");
    let log = fs::read_to_string(&log_file).unwrap_or_default();
    assert!(log.contains("signoff started") && log.contains("signoff finished"), "{log}");
    assert!(!log.contains('\u{1b}'), "no ANSI in the log file");
    let mode = fs::metadata(&log_file).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(mode, 0o600);

    let verbose = signoff(home, &vars, &["--verbose", "config", "path", "--json"]);
    assert!(text(&verbose.stderr).contains("signoff started"), "{}", text(&verbose.stderr));
    assert!(serde_json::from_slice::<serde_json::Value>(&verbose.stdout).is_ok(), "stdout stays pure data");
    let appended = fs::read_to_string(&log_file).unwrap_or_default();
    assert!(appended.starts_with(&log) && appended.len() > log.len(), "the log is appended to");

    let filtered =
        signoff(home, &[("XDG_STATE_HOME", &state), ("SIGNOFF_LOG", "warn")], &["--verbose", "config", "path"]);
    assert!(!text(&filtered.stderr).contains("signoff started"), "SIGNOFF_LOG=warn hides info");
}

#[test]
fn docs_config_md_documents_every_key_the_schema_accepts() {
    let docs = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md")).unwrap_or_default();
    // The loader lists the accepted keys of a table when it meets an unknown one: ask every table.
    let tables = [
        "zz_probe = 1\n",
        "[approver]\nzz_probe = 1\n",
        "[store]\nzz_probe = 1\n",
        "[runs]\nzz_probe = 1\n",
        "[environment]\nzz_probe = 1\n",
        "[auth]\nzz_probe = 1\n",
        "[managed_objects.vendor]\nzz_probe = 1\n",
        "[operations.journal_post]\nkind = \"custom-service\"\nzz_probe = 1\n",
        "[policy]\nzz_probe = 1\n",
        "[[policy.quorum]]\nzz_probe = 1\n",
        "[[policy.closed_periods]]\nzz_probe = 1\n",
        "[ui]\nzz_probe = 1\n",
        "[intake]\nzz_probe = 1\n",
        "[intake.workflow]\nzz_probe = 1\n",
        "[intake.workflow.fields]\nzz_probe = 1\n",
        "[intake.workflow.parameters]\nzz_probe = 1\n",
        "[intake.workflow.outcomes]\nzz_probe = 1\n",
        "[propose]\nzz_probe = 1\n",
        "[propose.routes.update-vendor]\nrequired_approvals = 1\nzz_probe = 1\n",
    ];
    let mut keys = 0;
    for text in tables {
        let message = match signoff::config::load::parse(text, Path::new("probe.toml"), None) {
            Ok(_) => panic!("the probe key must be refused: {text}"),
            Err(e) => e.to_string(),
        };
        let list = message.split("(expected one of: ").nth(1).and_then(|s| s.split(')').next()).unwrap_or("");
        assert!(!list.is_empty(), "no key list in: {message}");
        for key in list.split(", ") {
            keys += 1;
            let forms = [format!("`{key}`"), format!("`[{key}]`"), format!("`[{key}."), format!(".{key}]]`")];
            assert!(
                forms.iter().any(|f| docs.contains(f.as_str())),
                "docs/config.md does not document `{key}` ({text:?})"
            );
        }
    }
    assert!(keys > 50, "only {keys} keys found");
}

#[test]
fn config_check_warns_when_the_allowed_signers_file_is_writable_by_others() {
    let dir = temp();
    let allowed = dir.path().join("allowed_signers");
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGf8v0H0WpiLHp3bTn9d1E0mB+1Ut7hmB9CeNzL3RZ4x";
    write(&allowed, &format!("julia.funderburk@contoso.com {key}\n"), 0o666);
    let file = dir.path().join("config.toml");
    let config = format!("[approver]\nallowed_signers = \"{}\"\n", allowed.display());
    write(&file, &config, 0o600);
    let out = signoff(dir.path(), &[], &["--config", &file.to_string_lossy(), "config", "check"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is writable by its group or by others (mode 666)"), "{stderr}");
    assert!(stderr.contains("chmod 644"), "{stderr}");

    // An allowed-signers file that does not parse is a problem, not a warning.
    write(&allowed, "julia.funderburk@contoso.com ssh-ed25519 not-a-key\n", 0o644);
    let out = signoff(dir.path(), &[], &["--config", &file.to_string_lossy(), "config", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("approver.allowed_signers"), "{}", text(&out.stderr));
}

#[test]
fn config_check_holds_the_environment_url_to_the_clouds_fno_domain() {
    let dir = temp();
    let home = dir.path();
    let file = home.join("config.toml");
    let china = template().replace("cloud = \"global\"", "cloud = \"china\"");
    write(&file, &china, 0o600);
    let path = file.to_string_lossy().into_owned();
    let out = signoff(home, &[("SIGNOFF_CLIENT_SECRET", SECRET)], &["--config", &path, "config", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is not an F&O host of the china cloud (expected *.operations.dynamics.cn)"), "{stderr}");
    assert!(stderr.contains("set environment.cloud = \"global\""), "{stderr}");

    let fixed =
        china.replace("contoso-test.sandbox.operations.dynamics.com", "contoso-test.sandbox.operations.dynamics.cn");
    write(&file, &fixed, 0o600);
    let out = signoff(home, &[("SIGNOFF_CLIENT_SECRET", SECRET)], &["--config", &path, "config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let germany = template().replace("cloud = \"global\"", "cloud = \"germany\"");
    write(&file, &germany, 0o600);
    let out = signoff(home, &[("SIGNOFF_CLIENT_SECRET", SECRET)], &["--config", &path, "config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("closed on 2021-10-29"), "{}", text(&out.stderr));
}

#[test]
fn config_check_reads_the_ca_file_and_names_it_when_it_holds_no_certificate() {
    let dir = temp();
    let home = dir.path();
    let ca = home.join("company-ca.pem");
    write(&ca, "not a certificate\n", 0o644);
    let file = home.join("config.toml");
    let config = template().replace("kind = \"sandbox\"", &format!("kind = \"sandbox\"\nca_file = {ca:?}"));
    write(&file, &config, 0o600);
    let out =
        signoff(home, &[("SIGNOFF_CLIENT_SECRET", SECRET)], &["--config", &file.to_string_lossy(), "config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("environment.ca_file") && text(&out.stderr).contains("no PEM certificate"));
}
