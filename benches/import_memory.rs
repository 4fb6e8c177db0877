//! `runs import` of 100,000 run files through the release binary, as a user runs it: wall time and peak
//! resident memory (targets: ≤ 20 s, ≤ 200 MB). The files have the adversarial shape (invoices of one
//! company from 40 vendors) and are written once per invocation; the import is measured once, not
//! sampled: one run takes seconds, and peak memory is a maximum, not an average.
//!
//! `cargo bench --bench import_memory`; `IMPORT_RUNS=10000` for a smaller store; `IMPORT_FILES=DIR` keeps
//! the generated files in DIR (for `/usr/bin/time -v target/release/signoff runs import DIR`).

#[path = "../tests/store_common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

fn main() {
    let count: u32 = std::env::var("IMPORT_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let files = std::env::var_os("IMPORT_FILES").map_or_else(|| dir.path().join("runs"), Into::into);
    let started = Instant::now();
    let mut bytes = 0u64;
    for first in (0..count).step_by(10_000) {
        let runs: Vec<_> = (first..count.min(first + 10_000))
            .map(|n| common::invoice(&format!("RUN-IMP-{n:06}"), n, "USMF", "1250.00"))
            .collect();
        for path in common::write_runs(&files, &runs) {
            bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
    }
    eprintln!(
        "wrote {count} run files ({:.0} MB, {:.1} KB each) in {:.1} s",
        bytes as f64 / 1e6,
        bytes as f64 / f64::from(count.max(1)) / 1e3,
        started.elapsed().as_secs_f64()
    );

    let store = dir.path().join("store.db");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .arg("--store")
        .arg(&store)
        .arg("--config")
        .arg(dir.path().join("no-config.toml"))
        .args(["runs", "import"])
        .arg(&files)
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_DATA_HOME", dir.path().join("share"))
        .env_remove("SIGNOFF_STORE")
        .env_remove("SIGNOFF_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("run signoff: {e}"));
    let elapsed = started.elapsed();
    assert!(out.status.success(), "import failed: {}", String::from_utf8_lossy(&out.stderr));
    // The largest resident set of any child waited for: the one `signoff runs import`.
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    };
    println!(
        "runs import of {count} runs: {:.2} s, peak RSS {:.1} MB ({})",
        elapsed.as_secs_f64(),
        peak_kib as f64 * 1024.0 / 1e6,
        String::from_utf8_lossy(&out.stdout).trim()
    );
}
