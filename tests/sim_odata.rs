//! The simulator's OData endpoint: reads, paging, company scope, query options, writes and ETags.

use crate::sim_support;

use serde_json::{Value, json};
use signoff::sim::{SimOptions, etag_for};
use sim_support::*;

const INVOICE: &str = "/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='APINV-000123')";

#[tokio::test]
async fn a_single_invoice_comes_with_its_etag_context_and_odata_headers() {
    let sim = start().await;
    let token = token(&sim).await;
    let a = get(&sim, &token, INVOICE).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("content-type").as_deref(), Some("application/json; odata.metadata=minimal; charset=utf-8"));
    assert_eq!(a.header("odata-version").as_deref(), Some("4.0"));
    let body = a.json();
    assert_eq!(body["@odata.context"], format!("{}/data/$metadata#VendorInvoiceHeaders/$entity", sim.base_url()));
    assert_eq!(body["@odata.etag"], a.header("etag").unwrap());
    assert_eq!(body["@odata.etag"], etag_for(1, 5637144577));
    assert_eq!(body["RecId"], 5637144577_i64);
    assert_eq!(body["InvoiceNumber"], "SI-2026-4471");
    assert_eq!(body["IsApproved"], "No");
    // Exact decimals: the amount's text is as stored, no float round trip.
    assert!(a.text.contains("\"ImportedAmount\":12.50"), "{}", a.text);
}

#[tokio::test]
async fn keys_may_come_in_any_order_and_string_keys_ignore_case() {
    let sim = start().await;
    let token = token(&sim).await;
    let a = get(&sim, &token, "/data/VendorInvoiceHeaders(HeaderReference='apinv-000123',dataAreaId='USMF')").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["HeaderReference"], "APINV-000123");
    let missing =
        get(&sim, &token, "/data/VendorInvoiceHeaders(dataAreaId='usmf',HeaderReference='APINV-999999')").await;
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"]["message"].as_str().unwrap().contains("Resource not found"));
}

#[tokio::test]
async fn paging_through_2500_journal_lines_follows_next_links_to_the_end() {
    let sim = start().await;
    let header = sim.insert_record("LedgerJournalHeaders", json!({"dataAreaId": "usmf", "JournalName": "GenJrn", "Description": "Bulk reclass", "AccountingCurrency": "USD"})).unwrap();
    let journal = header["JournalBatchNumber"].as_str().unwrap().to_string();
    let lines: Vec<Value> = (0..2500)
        .map(|i| {
            json!({"dataAreaId": "usmf", "JournalBatchNumber": journal, "AccountType": "Ledger",
            "AccountDisplayValue": "605140-001-02", "DebitAmount": 1.25, "CurrencyCode": "USD",
            "TransDate": "2026-01-31T12:00:00Z", "Text": format!("line {i}")})
        })
        .collect();
    sim.insert_records("LedgerJournalLines", lines).unwrap();
    let token = token(&sim).await;
    let mut next = Some(format!("/data/LedgerJournalLines?$filter=JournalBatchNumber eq '{journal}'&$count=true"));
    let (mut seen, mut pages) = (Vec::new(), 0);
    while let Some(url) = next {
        let a = get(&sim, &token, &url).await;
        assert_eq!(a.status, 200, "{}", a.text);
        let body = a.json();
        assert_eq!(body["@odata.count"], 2500);
        for line in body["value"].as_array().unwrap() {
            seen.push(line["LineNumber"].to_string());
        }
        next = body["@odata.nextLink"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 3, "1,000 per page by default");
    assert_eq!(seen.len(), 2500);
    assert_eq!(seen.first().map(String::as_str), Some("1"));
    assert_eq!(seen.last().map(String::as_str), Some("2500"));
    let header =
        get(&sim, &token, &format!("/data/LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='{journal}')"))
            .await;
    assert_eq!(header.json()["JournalTotalDebit"].to_string(), "3125.00", "totals are exact sums");
}

#[tokio::test]
async fn page_size_and_top_bound_the_pages() {
    let sim = start_with(SimOptions { page_size: 2, ..Default::default() }).await;
    let token = token(&sim).await;
    let body = get(&sim, &token, "/data/MainAccounts?$top=3").await.json();
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    let next = body["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("$skiptoken=2"), "{next}");
    let body = get(&sim, &token, &next).await.json();
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert!(body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn only_the_default_company_is_visible_unless_cross_company_is_asked() {
    let sim = start().await;
    let token = token(&sim).await;
    let companies = |body: Value| -> Vec<String> {
        let mut c: Vec<String> =
            body["value"].as_array().unwrap().iter().map(|v| v["dataAreaId"].as_str().unwrap().to_string()).collect();
        c.dedup();
        c
    };
    assert_eq!(companies(get(&sim, &token, "/data/VendorsV2").await.json()), vec!["usmf"]);
    let all = companies(get(&sim, &token, "/data/VendorsV2?cross-company=true").await.json());
    assert!(all.contains(&"demf".to_string()) && all.contains(&"usmf".to_string()));
    let one = get(&sim, &token, "/data/VendorsV2?cross-company=true&$filter=dataAreaId eq 'demf'").await.json();
    assert_eq!(companies(one), vec!["demf"]);
    let demf = "/data/VendorInvoiceHeaders(dataAreaId='demf',HeaderReference='APINV-000200')";
    assert_eq!(get(&sim, &token, demf).await.status, 404, "another company's record needs cross-company");
    assert_eq!(get(&sim, &token, &format!("{demf}?cross-company=true")).await.status, 200);
}

#[tokio::test]
async fn filter_with_enum_literals_and_select_shape_the_answer() {
    let sim = start().await;
    let token = token(&sim).await;
    let a = get(
        &sim,
        &token,
        "/data/LedgerJournalHeaders?$filter=IsPosted eq Microsoft.Dynamics.DataEntities.NoYes'No' and JournalTotalDebit ge 1000&$select=JournalBatchNumber,JournalTotalDebit",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let body = a.json();
    assert_eq!(
        body["@odata.context"],
        format!("{}/data/$metadata#LedgerJournalHeaders(JournalBatchNumber,JournalTotalDebit)", sim.base_url())
    );
    let numbers: Vec<&str> =
        body["value"].as_array().unwrap().iter().map(|v| v["JournalBatchNumber"].as_str().unwrap()).collect();
    assert_eq!(numbers, vec!["00461", "00478", "00482", "00123", "00125", "00126"]);
    let first = body["value"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, vec!["@odata.etag", "JournalBatchNumber", "JournalTotalDebit"]);

    let bare = get(&sim, &token, "/data/LedgerJournalHeaders?$filter=IsPosted eq 'No'").await;
    assert_eq!(bare.status, 400, "a bare enum value is refused");
    let or =
        get(&sim, &token, "/data/VendorsV2?$filter=VendorAccountNumber eq 'US-101' or VendorAccountNumber eq '1001'")
            .await;
    assert_eq!(or.json()["value"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn patch_with_a_stale_if_match_gets_412_and_changes_nothing() {
    let sim = start().await;
    let token = token(&sim).await;
    let before = get(&sim, &token, INVOICE).await.json();
    let etag = before["@odata.etag"].as_str().unwrap().to_string();
    let keys = json!({"dataAreaId": "usmf", "HeaderReference": "APINV-000123"});
    let new_etag = sim.edit_record("VendorInvoiceHeaders", &keys, json!({"DueDate": "2026-03-01T12:00:00Z"})).unwrap();
    assert_ne!(new_etag, etag, "a concurrent edit bumps the ETag");

    let stale = send(
        &sim,
        &token,
        "PATCH",
        INVOICE,
        &[("if-match", &etag)],
        Some(r#"{"InvoiceDescription":"Cable ties, facilities (Q4)"}"#.into()),
    )
    .await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    assert!(infolog(&stale.json()).contains("ETag"));
    assert_eq!(
        sim.record("VendorInvoiceHeaders", &keys).unwrap()["InvoiceDescription"],
        "Replacement cable ties, facilities"
    );

    let ok = send(
        &sim,
        &token,
        "PATCH",
        INVOICE,
        &[("if-match", &new_etag)],
        Some(r#"{"InvoiceDescription":"Cable ties, facilities (Q4)"}"#.into()),
    )
    .await;
    assert_eq!(ok.status, 204, "{}", ok.text);
    assert!(ok.text.is_empty());
    let after = sim.record("VendorInvoiceHeaders", &keys).unwrap();
    assert_eq!(after["InvoiceDescription"], "Cable ties, facilities (Q4)");
    assert_ne!(after["@odata.etag"], new_etag.as_str());
    let without = send(&sim, &token, "PATCH", INVOICE, &[], Some(r#"{"IsOnHold":"Yes"}"#.into())).await;
    assert_eq!(without.status, 204, "If-Match is optional");
}

#[tokio::test]
async fn an_unknown_property_in_a_write_is_a_400_naming_it_and_the_type() {
    let sim = start().await;
    let token = token(&sim).await;
    let a = send(&sim, &token, "PATCH", INVOICE, &[], Some(r#"{"data":"x"}"#.into())).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["error"]["message"],
        "The property 'data' does not exist on type 'Microsoft.Dynamics.DataEntities.VendorInvoiceHeader'. Make sure to only use property names that are defined by the type."
    );
}

#[tokio::test]
async fn post_creates_with_201_and_delete_removes_with_204() {
    let sim = start().await;
    let token = token(&sim).await;
    let body = json!({"dataAreaId": "usmf", "JournalBatchNumber": "00123", "AccountType": "Ledger",
        "AccountDisplayValue": "605140-002-02", "DebitAmount": 10.10, "TransDate": "2026-01-31T12:00:00Z", "Voucher": "GNJL000451"});
    let a = send(&sim, &token, "POST", "/data/LedgerJournalLines", &[], Some(body.to_string())).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let created = a.json();
    assert_eq!(created["LineNumber"], 3);
    assert_eq!(created["CurrencyCode"], "USD", "defaulted from the journal");
    assert!(created["@odata.context"].as_str().unwrap().ends_with("#LedgerJournalLines/$entity"));
    assert_eq!(created["@odata.etag"], a.header("etag").unwrap());
    let etag = a.header("etag").unwrap();
    assert!(etag.starts_with("W/\""));

    let header =
        get(&sim, &token, "/data/LedgerJournalHeaders(dataAreaId='usmf',JournalBatchNumber='00123')").await.json();
    assert_eq!(header["JournalTotalDebit"].to_string(), "1850.10");

    let line = "/data/LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00123',LineNumber=3)";
    assert_eq!(send(&sim, &token, "DELETE", line, &[], None).await.status, 204);
    assert_eq!(get(&sim, &token, line).await.status, 404);
}

#[tokio::test]
async fn writes_to_a_posted_journal_and_to_unknown_accounts_fail_with_infolog() {
    let sim = start().await;
    let token = token(&sim).await;
    let posted = "/data/LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00100',LineNumber=1)";
    let a = send(&sim, &token, "PATCH", posted, &[], Some(r#"{"Text":"changed"}"#.into())).await;
    assert_eq!(a.status, 500);
    assert!(infolog(&a.json()).contains("is posted"), "{}", a.text);
    let line = "/data/LedgerJournalLines(dataAreaId='usmf',JournalBatchNumber='00123',LineNumber=1)";
    let b = send(&sim, &token, "PATCH", line, &[], Some(r#"{"AccountDisplayValue":"777777-001-02"}"#.into())).await;
    assert_eq!(b.status, 500);
    assert!(infolog(&b.json()).contains("777777-001-02"), "{}", b.text);
}

#[tokio::test]
async fn metadata_and_service_document_list_every_entity_set() {
    let sim = start().await;
    let token = token(&sim).await;
    let doc = get(&sim, &token, "/data/").await.json();
    let names: Vec<&str> = doc["value"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    for set in [
        "VendorInvoiceHeaders",
        "VendorInvoiceLines",
        "LedgerJournalHeaders",
        "LedgerJournalLines",
        "VendorsV2",
        "SystemUsers",
        "MainAccounts",
        "LegalEntities",
        "SysAADClients",
    ] {
        assert!(names.contains(&set), "{set}");
    }
    let csdl = get(&sim, &token, "/data/$metadata").await;
    assert_eq!(csdl.status, 200);
    assert!(csdl.text.contains(r#"<EntityContainer Name="Resources">"#));
    assert!(csdl.text.contains(r#"<Action Name="signoffReverse" IsBound="true">"#));
    assert!(csdl.text.contains(r#"<Property Name="DebitAmount" Type="Edm.Decimal""#));
}

#[tokio::test]
async fn customer_groups_refuse_a_duplicate_key_a_stale_delete_and_a_group_still_in_use() {
    let sim = start().await;
    let token = token(&sim).await;
    let group = |id: &str| format!("/data/CustomerGroups(dataAreaId='usmf',CustomerGroupId='{id}')?cross-company=true");
    let missing = get(&sim, &token, &group("77")).await;
    assert_eq!(missing.status, 404, "{}", missing.text);

    let duplicate = send(
        &sim,
        &token,
        "POST",
        "/data/CustomerGroups",
        &[],
        Some(r#"{"dataAreaId":"usmf","CustomerGroupId":"20","Description":"Major customers again"}"#.into()),
    )
    .await;
    assert_eq!(duplicate.status, 500, "F&O's write error, as captured (FNO.md §3): {}", duplicate.text);
    assert!(infolog(&duplicate.json()).contains("The record already exists"), "{}", duplicate.text);
    let keys = json!({"dataAreaId": "usmf", "CustomerGroupId": "20"});
    assert_eq!(sim.record("CustomerGroups", &keys).unwrap()["Description"], "Major customers");

    let etag = get(&sim, &token, &group("90")).await.json()["@odata.etag"].as_str().unwrap().to_string();
    sim.edit_record(
        "CustomerGroups",
        &json!({"dataAreaId": "usmf", "CustomerGroupId": "90"}),
        json!({"TaxGroupId": "CA"}),
    )
    .unwrap();
    let stale = send(&sim, &token, "DELETE", &group("90"), &[("if-match", &etag)], None).await;
    assert_eq!(stale.status, 412, "{}", stale.text);

    let fresh = get(&sim, &token, &group("30")).await.json()["@odata.etag"].as_str().unwrap().to_string();
    let in_use = send(&sim, &token, "DELETE", &group("30"), &[("if-match", &fresh)], None).await;
    assert!(infolog(&in_use.json()).contains("used by customer US-001"), "{}", in_use.text);
    assert!(sim.record("CustomerGroups", &json!({"dataAreaId": "usmf", "CustomerGroupId": "30"})).is_some());
}

#[tokio::test]
async fn a_role_posted_to_the_association_entity_is_read_and_revoked_through_user_roles() {
    let sim = start().await;
    let token = token(&sim).await;
    let assign = json!({"UserId": "april", "SecurityRoleIdentifier": "LedgerAccountant"}).to_string();
    // The user-role entity is read and revoked, never posted to.
    let refused = send(&sim, &token, "POST", "/data/SecurityUserRoles", &[], Some(assign.clone())).await;
    assert_eq!(refused.status, 405, "{}", refused.text);
    let created = send(&sim, &token, "POST", "/data/SecurityUserRoleAssociations", &[], Some(assign)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let created = created.json();
    assert_eq!(created["SecurityRoleName"], "Accountant", "the role's name is filled from SecurityRoles");
    assert_eq!(created["AssignmentStatus"], "Enabled");
    let path = "/data/SecurityUserRoles(UserId='april',SecurityRoleIdentifier='LedgerAccountant')";
    let read = get(&sim, &token, path).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["@odata.etag"], created["@odata.etag"], "one assignment, one ETag, in both sets");
    let etag = created["@odata.etag"].as_str().unwrap();
    assert_eq!(send(&sim, &token, "DELETE", path, &[("If-Match", etag)], None).await.status, 204);
    assert_eq!(get(&sim, &token, path).await.status, 404);
    // An unknown role or user is refused with F&O's write Infolog.
    for body in [
        json!({"UserId": "april", "SecurityRoleIdentifier": "NoSuchRole"}),
        json!({"UserId": "nobody", "SecurityRoleIdentifier": "LedgerAccountant"}),
    ] {
        let answer =
            send(&sim, &token, "POST", "/data/SecurityUserRoleAssociations", &[], Some(body.to_string())).await;
        assert_eq!(answer.status, 500, "F&O answers a failed write with 500: {}", answer.text);
        assert!(infolog(&answer.json()).contains("does not exist"), "{}", answer.text);
    }
}
