//! Realistic runs for the unit tests of the review module.

use crate::model::{GovernedRun, parse_run};

/// A balanced two-line USMF general journal awaiting posting, with one line correction proposed.
pub fn journal_run() -> GovernedRun {
    let text = r#"{
      "format": "signoff.run/v1",
      "id": "RUN-2026-000412",
      "action": "dynamicsfinance.post-journal",
      "environment": "usmf-sandbox",
      "requester": {"id": "ap-automation", "kind": "automation", "sponsor": "julia@contoso.com"},
      "requested_at": "2026-03-02T09:15:00Z",
      "expires_at": "2026-04-02T09:15:00Z",
      "justification": "Accrual of February freight costs",
      "target": {"entity_set": "LedgerJournalHeaders", "managed_object": "ledger_journal",
                 "keys": {"dataAreaId": "usmf", "JournalBatchNumber": "USMF-000461"}},
      "before": {
        "etag": "W/\"JzEsNTYzNzE0NDU3Nyc=\"",
        "captured_at": "2026-03-02T09:14:58Z",
        "fields": {"JournalName": "GenJrn", "Description": "Freight accrual Feb", "IsPosted": "No"},
        "lines": [
          {"keys": {"dataAreaId": "usmf", "JournalBatchNumber": "USMF-000461", "LineNumber": 1},
           "etag": "W/\"JzEsNTYzNzE0NDU3OCc=\"",
           "fields": {"AccountDisplayValue": "605140-001-022", "DebitAmount": 12500.00, "CreditAmount": 0,
                      "CurrencyCode": "USD", "TransDate": "2026-02-28T12:00:00Z", "Voucher": "GNJL000461"}},
          {"keys": {"dataAreaId": "usmf", "JournalBatchNumber": "USMF-000461", "LineNumber": 2},
           "etag": "W/\"JzEsNTYzNzE0NDU3OSc=\"",
           "fields": {"AccountDisplayValue": "211100-001-022", "DebitAmount": 0, "CreditAmount": 12500.00,
                      "CurrencyCode": "USD", "TransDate": "2026-02-28T12:00:00Z", "Voucher": "GNJL000461"}}
        ]
      },
      "proposed": {
        "lines": [
          {"keys": {"dataAreaId": "usmf", "JournalBatchNumber": "USMF-000461", "LineNumber": 1},
           "fields": {"AccountDisplayValue": "605150-001-022"}}
        ]
      },
      "route": {"required_approvals": 1, "eligible_groups": ["gl-approvers"]}
    }"#;
    match parse_run(text, "journal_run") {
        Ok(run) => run,
        Err(e) => panic!("test run does not parse: {e}"),
    }
}
