//! Starting and stopping: loopback only, stops when dropped, `--seed`, and the `signoff sim` command.

use crate::sim_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;
use signoff::sim::{SimOptions, Simulator};
use sim_support::*;

#[tokio::test]
async fn the_simulator_binds_loopback_and_stops_listening_when_shut_down_or_dropped() {
    let sim = start().await;
    assert!(sim.addr().ip().is_loopback());
    let addr = sim.addr();
    sim.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens after shutdown");

    let dropped = start().await;
    let addr = dropped.addr();
    drop(dropped);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens after drop");
}

#[tokio::test]
async fn a_seed_file_replaces_the_embedded_seed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    let seed = json!({"format": "signoff.sim-seed/v1", "entities": {
        "SystemUsers": [{"RecId": 5637145001_i64, "UserID": "Admin", "Company": "usmf", "Enabled": true}],
        "VendorsV2": [{"RecId": 5637145002_i64, "dataAreaId": "usmf", "VendorAccountNumber": "US-900", "VendorOrganizationName": "Northwind Traders"}]}});
    std::fs::write(&path, seed.to_string()).unwrap();
    let sim = start_with(SimOptions { seed: Some(path), ..Default::default() }).await;
    let token = token(&sim).await;
    let vendors = get(&sim, &token, "/data/VendorsV2").await.json();
    assert_eq!(vendors["value"].as_array().unwrap().len(), 1);
    assert_eq!(vendors["value"][0]["VendorOrganizationName"], "Northwind Traders");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"format":"signoff.sim-seed/v1","entities":{"Customers":[]}}"#).unwrap();
    let err = Simulator::start(SimOptions { seed: Some(bad), ..Default::default() }).await.unwrap_err();
    assert!(err.to_string().contains("unknown entity set 'Customers'"), "{err}");
}

#[test]
fn signoff_sim_prints_its_url_and_a_config_snippet_and_serves_tokens() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["sim", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    while !text.contains("client_secret_env") {
        if out.read_line(&mut text).unwrap() == 0 {
            break;
        }
    }
    let base = text.split_whitespace().find(|w| w.starts_with("http://127.0.0.1:")).map(str::to_string);
    let result = std::panic::catch_unwind(|| {
        let base = base.clone().expect("the base URL is printed");
        assert!(text.contains(&format!("url = \"{base}\"")), "{text}");
        assert!(text.contains(&format!("authority_host = \"{base}\"")));
        assert!(text.contains("client_secret_env = \"SIGNOFF_SIM_SECRET\""));
        assert!(text.contains("export SIGNOFF_SIM_SECRET="));
        let o = SimOptions::default();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let status = runtime.block_on(async {
            client()
                .post(format!("{base}/{}/oauth2/v2.0/token", o.tenant))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &o.client_id),
                    ("client_secret", &o.client_secret),
                    ("scope", &format!("{base}/.default")),
                ]))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(status, 200);
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn debug_output_of_the_simulator_and_its_options_shows_no_secret() {
    let sim = start().await;
    let _ = token(&sim).await;
    let secret = sim.options().client_secret.clone();
    let shown = format!("{sim:?} {:?}", sim.options());
    assert!(!shown.contains(&secret), "{shown}");
    assert!(shown.contains(&sim.base_url()));
}
