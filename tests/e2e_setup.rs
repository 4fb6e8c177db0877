//! The README's set-up path, followed literally: the shell block between `<!-- setup-path -->` markers
//! runs in bash with the real binary on PATH — the simulator, a fresh config from `connector init`, the
//! metadata sync, a run proposed from the live invoice, its approval — and the simulator's record, read
//! back through `signoff query`, shows the write. A README step that stops working fails here.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The README's set-up script, without its code fences.
fn setup_script() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("<!-- setup-path -->").expect("README marks its set-up path");
    let end = readme.find("<!-- /setup-path -->").expect("README ends its set-up path");
    readme[start..end]
        .lines()
        .filter(|l| !l.starts_with("```") && !l.starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_set_up_path_proposes_and_approves_a_run_against_the_simulator() {
    let home = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_signoff")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut child = Command::new("bash")
        // Then where the rehearsal stands, as `connector status` tells it (the simulator is still up).
        .args(["-euo", "pipefail", "-c", &format!("{}\nsignoff --json connector status > status.json", setup_script())])
        .current_dir(home.path())
        .env("PATH", path)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("SIGNOFF_CONFIG")
        .env_remove("SIGNOFF_STORE")
        .env_remove("SIGNOFF_APPROVER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: on a timeout the script and the simulator it started stop together.
        .process_group(0)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            panic!("the README set-up path did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the README set-up path failed:\n{all}");
    assert!(stdout.contains("run-rehearsal-1: executed"), "{all}");
    let record = stdout.lines().find(|l| l.starts_with("APINV-000123")).unwrap_or_else(|| panic!("{all}"));
    assert!(
        record.contains("2026-12-20T12:00:00Z") && record.contains("Yes"),
        "the simulator holds the write: {record}"
    );
    // A config edited by hand counts from its first validation: validated and synced, a dry run next.
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("rehearsal/status.json")).unwrap()).unwrap();
    let states: Vec<&str> = status["steps"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["done", "done", "done", "pending", "pending"], "{status:#}");
    assert!(status["steps"][0]["detail"].as_str().unwrap().contains("edited by hand"), "{status:#}");
}
