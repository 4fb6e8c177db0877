//! The duplicate-invoice rule's question, asked of an index: "which other runs carry this company,
//! vendor and invoice number, in these states". The key columns (`runs.invoice_vendor`,
//! `runs.invoice_number`, with `runs.company`) hold [`InvoiceKey`], normalised as the rule compares, so
//! equality in SQL is equality for the rule and the answer costs one index probe whatever the store's size.
//!
//! The columns are a pure function of the payload, like `company` or `amount`: they are written with the
//! run at import (and backfilled from the stored payloads by migration 3), never change afterwards, and
//! record nothing the audit chain does not already prove. So they are not part of the chain's state (no
//! event carries them; the chain stays what older builds wrote), but `audit verify` recomputes them from
//! the verified payload like every other derived column (`binding::derived_columns`): an edit that would
//! hide a duplicate from the rule is named there.

use std::collections::HashMap;

use rusqlite::{Transaction, params};

use super::runs::parse_status;
use super::{Store, StoreError};
use crate::judge::{InvoiceKey, OtherInvoice};
use crate::model::{Action, GovernedRun, RunId, RunStatus};

/// The key columns' values for `run`: `(invoice_vendor, invoice_number)`, both NULL without a key.
pub(crate) fn key_columns(run: &GovernedRun) -> (Option<String>, Option<String>) {
    match InvoiceKey::of(run) {
        Some(key) => (Some(key.vendor), Some(key.number)),
        None => (None, None),
    }
}

/// The statuses as one JSON array parameter (`json_each`), so the SQL text stays fixed and cached.
fn statuses_param(statuses: &[RunStatus]) -> String {
    serde_json::Value::from(statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()).to_string()
}

impl Store {
    /// The other runs whose invoice has `key`, in one of `statuses`: one probe of `runs_by_invoice`.
    pub fn invoices_with_key(
        &self,
        key: &InvoiceKey,
        statuses: &[RunStatus],
        except: &RunId,
    ) -> Result<Vec<OtherInvoice>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.invoices_with_key(key, statuses, except));
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM runs INDEXED BY runs_by_invoice
             WHERE invoice_number = ?1 AND invoice_vendor = ?2 AND company IS ?3
               AND status IN (SELECT value FROM json_each(?4)) AND id <> ?5",
        )?;
        let ids = stmt.query_map(
            params![key.number, key.vendor, key.company, statuses_param(statuses), except.as_str()],
            |row| row.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for id in ids {
            out.push(OtherInvoice {
                run_id: RunId(id?),
                company: key.company.clone(),
                vendor: key.vendor.clone(),
                invoice_number: key.number.clone(),
            });
        }
        Ok(out)
    }

    /// The runs whose invoice has one of `keys`, in one of `statuses`, grouped by key (each key's own run
    /// included: the caller leaves it out). For judging a batch of queue rows: SQLite probes the index once
    /// per key in-process; PostgreSQL asks once for the whole batch instead of a round trip per row.
    pub fn invoices_with_keys(
        &self,
        keys: &[InvoiceKey],
        statuses: &[RunStatus],
    ) -> Result<HashMap<InvoiceKey, Vec<OtherInvoice>>, StoreError> {
        super::sqlite_or!(self, |pg| pg.invoices_with_keys(keys, statuses));
        // No run has an empty id: nothing is left out.
        let nobody = RunId(String::new());
        let mut out = HashMap::new();
        for key in keys {
            if !out.contains_key(key) {
                out.insert(key.clone(), self.invoices_with_key(key, statuses, &nobody)?);
            }
        }
        Ok(out)
    }

    /// For judging a whole queue: every invoice in one of `among` whose key at least one other invoice in
    /// `among` shares, with its status, grouped by key. Invoices without a twin are left out: the rule
    /// finds nothing for them either. One pass over the key index, however many runs the store holds;
    /// the answer is as large as the duplicates, not the store.
    pub fn invoice_twins(
        &self,
        among: &[RunStatus],
    ) -> Result<HashMap<InvoiceKey, Vec<(OtherInvoice, RunStatus)>>, StoreError> {
        let conn = super::sqlite_or!(self, |pg| pg.invoice_twins(among));
        let mut stmt = conn.prepare_cached(
            "WITH keyed AS (
                 SELECT id, status, company, invoice_vendor, invoice_number FROM runs INDEXED BY runs_by_invoice
                 WHERE invoice_number IS NOT NULL AND status IN (SELECT value FROM json_each(?1))
             ),
             twins AS (
                 SELECT company, invoice_vendor, invoice_number FROM keyed
                 GROUP BY invoice_number, invoice_vendor, company HAVING COUNT(*) > 1
             )
             SELECT k.id, k.status, k.company, k.invoice_vendor, k.invoice_number FROM keyed k JOIN twins t
               ON k.invoice_number = t.invoice_number AND k.invoice_vendor = t.invoice_vendor
              AND k.company IS t.company",
        )?;
        let mut rows = stmt.query([statuses_param(among)])?;
        let mut out: HashMap<InvoiceKey, Vec<(OtherInvoice, RunStatus)>> = HashMap::new();
        while let Some(row) = rows.next()? {
            let key = InvoiceKey { company: row.get(2)?, vendor: row.get(3)?, number: row.get(4)? };
            let other = OtherInvoice {
                run_id: RunId(row.get(0)?),
                company: key.company.clone(),
                vendor: key.vendor.clone(),
                invoice_number: key.number.clone(),
            };
            let status = parse_status(&row.get::<_, String>(1)?)?;
            out.entry(key).or_default().push((other, status));
        }
        Ok(out)
    }
}

/// Migration 3's backfill: the key columns of every vendor-invoice run already stored, from its payload.
/// A payload that no longer parses keeps NULL keys (it cannot be judged anyway, and `audit verify` names
/// the edit that broke it).
pub(super) fn backfill(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut keyed = Vec::new();
    {
        let mut stmt = tx
            .prepare("SELECT r.id, p.payload FROM runs r JOIN run_payloads p ON p.run_id = r.id WHERE r.action = ?1")?;
        let mut rows = stmt.query([Action::ApproveVendorInvoice.as_str()])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let payload = row.get_ref(1)?.as_str().map_err(|e| StoreError::corrupt(format!("run {id}"), e))?;
            match serde_json::from_str::<GovernedRun>(payload) {
                Ok(run) => {
                    if let (Some(vendor), Some(number)) = key_columns(&run) {
                        keyed.push((id, vendor, number));
                    }
                }
                Err(e) => {
                    tracing::warn!(run = %id, error = %e, "stored payload does not parse; its invoice key stays empty")
                }
            }
        }
    }
    let mut update = tx.prepare("UPDATE runs SET invoice_vendor = ?2, invoice_number = ?3 WHERE id = ?1")?;
    for (id, vendor, number) in keyed {
        update.execute(params![id, vendor, number])?;
    }
    Ok(())
}
