//! The simulator's writes are checked against its `$metadata` as F&O checks them (FNO.md §2, §3).

use crate::sim_support;

use std::path::Path;

use serde_json::json;
use sim_support::*;

const USER: &str = "/data/SystemUsers(UserID='akumar')";
const VENDOR: &str = "/data/VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-104')?cross-company=true";

async fn patch(sim: &signoff::sim::Simulator, token: &str, path: &str, body: serde_json::Value) -> Answer {
    send(sim, token, "PATCH", path, &[], Some(body.to_string())).await
}

#[tokio::test]
async fn enabled_is_declared_edm_boolean_in_metadata() {
    let sim = start().await;
    let token = token(&sim).await;
    let xml = get(&sim, &token, "/data/$metadata").await.text;
    let catalog = signoff::fno::parse_csdl(&xml).unwrap();
    let enabled = catalog.property("SystemUsers", "Enabled").unwrap();
    assert_eq!((enabled.type_name.as_str(), enabled.enum_type.as_deref()), ("Edm.Boolean", None));
    let bank = catalog.property("VendorsV2", "BankAccountId").unwrap();
    assert_eq!(bank.max_length, Some(10));
    let amount = catalog.property("VendorInvoiceHeaders", "ImportedAmount").unwrap();
    assert_eq!((amount.precision, amount.scale), (Some(32), Some(6)));
}

#[tokio::test]
async fn a_boolean_sent_as_the_enum_name_no_is_refused_with_400_naming_the_property() {
    let sim = start().await;
    let token = token(&sim).await;
    let answer = patch(&sim, &token, USER, json!({"Enabled": "No"})).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let message = answer.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("Cannot convert the literal 'No' to the expected type 'Edm.Boolean'"), "{message}");
    assert!(message.contains("'Enabled'"), "{message}");
    let user = get(&sim, &token, USER).await.json();
    assert_eq!(user["Enabled"], false, "nothing was written");
}

#[tokio::test]
async fn a_boolean_is_accepted_and_stored_as_a_boolean() {
    let sim = start().await;
    let token = token(&sim).await;
    let answer = patch(&sim, &token, USER, json!({"Enabled": true})).await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    assert_eq!(get(&sim, &token, USER).await.json()["Enabled"], true);
}

#[tokio::test]
async fn a_string_over_max_length_is_refused_with_an_infolog() {
    let sim = start().await;
    let token = token(&sim).await;
    let answer = patch(&sim, &token, VENDOR, json!({"BankAccountId": "WF-CHK-4410"})).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let text = infolog(&answer.json());
    assert!(text.contains("VendVendorV2Entity") && text.contains("'BankAccountId'"), "{text}");
    assert!(text.contains("allows 10 characters and has 11"), "{text}");
    let answer = patch(&sim, &token, VENDOR, json!({"BankAccountId": "WF-CHK-441"})).await;
    assert_eq!(answer.status, 204, "ten characters fit: {}", answer.text);
}

#[tokio::test]
async fn a_batch_part_of_the_wrong_type_fails_the_whole_changeset() {
    let sim = start().await;
    let token = token(&sim).await;
    let etag = get(&sim, &token, USER).await.json()["@odata.etag"].as_str().unwrap().to_string();
    let url = format!("{}{USER}", sim.base_url());
    let body = format!(
        "--batch_t\r\nContent-Type: multipart/mixed; boundary=changeset_t\r\n\r\n\
         --changeset_t\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
         PATCH {url} HTTP/1.1\r\nIf-Match: {etag}\r\nContent-Type: application/json\r\n\r\n{{\"Enabled\":\"Yes\"}}\r\n\
         --changeset_t--\r\n--batch_t--\r\n"
    );
    let answer = send(
        &sim,
        &token,
        "POST",
        "/data/$batch",
        &[("content-type", "multipart/mixed; boundary=batch_t")],
        Some(body),
    )
    .await;
    assert!(answer.text.contains("HTTP/1.1 400"), "{}", answer.text);
    assert!(answer.text.contains("'Edm.Boolean'"), "{}", answer.text);
    assert_eq!(get(&sim, &token, USER).await.json()["Enabled"], false);
}

/// `fixtures/csdl/usmf-sandbox.xml` is the simulator's `$metadata`: the catalog the judgement tests
/// judge against. `UPDATE_FIXTURES=1` rewrites it.
#[tokio::test]
async fn the_catalog_fixture_is_the_simulators_metadata() {
    let sim = start().await;
    let token = token(&sim).await;
    let xml = get(&sim, &token, "/data/$metadata").await.text;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/csdl/usmf-sandbox.xml");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &xml).unwrap();
    }
    let fixture = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(fixture == xml, "{} is out of date: run with UPDATE_FIXTURES=1", path.display());
}
