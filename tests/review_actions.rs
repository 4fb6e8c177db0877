//! The decision pipeline against the real simulator: the happy path and the reject of every action.

mod review_support;

use serde_json::json;
use signoff::review::{DecisionKind, Outcome};

use review_support::{APPROVER, Harness};

#[tokio::test]
async fn approving_a_vendor_bank_change_patches_it_under_the_live_etag() {
    let h = Harness::start().await;
    let keys = json!({"dataAreaId": "usmf", "VendorAccountNumber": "US-104"});
    let run = h.propose(
        "RUN-VND-US-104",
        "dynamicsfinance.update-vendor",
        "VendorsV2",
        keys.clone(),
        json!({"DefaultPaymentTermsName": "Net30"}),
        vec![],
        1,
    );
    let live_etag = h.sim.record("VendorsV2", &keys).unwrap()["@odata.etag"].as_str().unwrap().to_string();
    assert_eq!(live_etag, run.before.etag.0);

    let outcome = h.decide(APPROVER, "RUN-VND-US-104", DecisionKind::Approve, false).await;

    assert!(matches!(outcome, Outcome::Executed { .. }), "{outcome:?}");
    assert_eq!(h.sim.record("VendorsV2", &keys).unwrap()["DefaultPaymentTermsName"], "Net30");
    let writes = h.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PATCH");
    assert_eq!(writes[0].header("if-match"), Some(live_etag.as_str()));
    assert_eq!(h.status("RUN-VND-US-104"), "executed");
}
