//! What the policy knows beyond the run: the synced metadata catalog, and main accounts read live.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::fno::keys::string_literal;
use crate::fno::{Catalog, FnoClient, FnoError, Query};
use crate::judge::{ApproverSecurity, InvoiceKey, OtherInvoice};
use crate::model::{Action, FieldValue, GovernedRun, RunId, RunStatus, Snapshot};
use crate::store::{Store, StoreError};

/// The catalog facts in the shapes `judge::Facts` borrows.
#[derive(Debug, Clone, Default)]
pub struct KnownFacts {
    /// Bound action names from `$metadata` and the paths of verified custom services
    /// (`Group/Service/operation`).
    pub operations: Option<BTreeSet<String>>,
    pub entity_fields: Option<BTreeMap<String, BTreeSet<String>>>,
    /// Main account ids proven to exist (read live for journals).
    pub accounts: Option<BTreeSet<String>>,
    /// The whole synced catalog: property types and facets for policy, and for the client to encode
    /// writes with (`FnoClient::with_catalog`).
    pub catalog: Option<Arc<Catalog>>,
}

/// The catalog `signoff connector sync-metadata` stored; none when never synced or unreadable.
pub fn load_catalog(store: &Store) -> Result<Option<Arc<Catalog>>, StoreError> {
    let Some((text, _synced_at)) = store.load_catalog()? else { return Ok(None) };
    match serde_json::from_str::<Catalog>(&text) {
        Ok(catalog) => Ok(Some(Arc::new(catalog))),
        Err(e) => {
            tracing::warn!(error = %e, "the stored metadata catalog is unreadable; policy treats metadata as not synced");
            Ok(None)
        }
    }
}

/// Load the catalog `signoff connector sync-metadata` stored; none when never synced (fail closed).
pub fn load(store: &Store) -> Result<KnownFacts, StoreError> {
    Ok(load_catalog(store)?.map(|c| known_from(&c)).unwrap_or_default())
}

/// The policy facts a synced catalog proves.
pub fn known_from(catalog: &Arc<Catalog>) -> KnownFacts {
    let operations: BTreeSet<String> =
        catalog.actions.iter().map(|a| a.name.clone()).chain(catalog.services.iter().map(|s| s.path())).collect();
    let entity_fields = catalog
        .entity_sets
        .iter()
        .filter_map(|(set, ty)| {
            catalog.entity_types.get(ty).map(|t| (set.clone(), t.properties.keys().cloned().collect()))
        })
        .collect();
    KnownFacts {
        operations: Some(operations),
        entity_fields: Some(entity_fields),
        accounts: None,
        catalog: Some(Arc::clone(catalog)),
    }
}

/// For a journal, read which of its main accounts exist (one query); other actions need none.
pub async fn read_accounts(client: &FnoClient, run: &GovernedRun) -> Result<Option<BTreeSet<String>>, FnoError> {
    if run.document_action() != Action::PostJournal {
        return Ok(None);
    }
    read_accounts_of(client, &[run]).await.map(Some)
}

/// Which main accounts of these journals exist, read live: a few queries for all of them (the queue
/// judges every open journal), at most 40 accounts per `$filter` to keep URLs short.
pub async fn read_accounts_of(client: &FnoClient, runs: &[&GovernedRun]) -> Result<BTreeSet<String>, FnoError> {
    let mut wanted = BTreeSet::new();
    for run in runs.iter().filter(|r| r.document_action() == Action::PostJournal) {
        let lines = run.before.lines.iter().map(|l| &l.fields).chain(run.proposed.lines.iter().map(|l| &l.fields));
        for fields in lines {
            for (_, account) in crate::policy::journal::ledger_accounts(fields) {
                wanted.insert(account.to_string());
            }
        }
    }
    let wanted: Vec<String> = wanted.into_iter().collect();
    let mut found = BTreeSet::new();
    for chunk in wanted.chunks(40) {
        let filter: Vec<String> = chunk.iter().map(|a| format!("MainAccountId eq {}", string_literal(a))).collect();
        let query =
            Query { filter: Some(filter.join(" or ")), select: vec!["MainAccountId".into()], ..Default::default() };
        let rows = client.query("MainAccounts", &query).await?.rows;
        found.extend(
            rows.into_iter()
                .filter_map(|r| r.fields.get("MainAccountId").and_then(FieldValue::as_text).map(str::to_string)),
        );
    }
    Ok(found)
}

/// For a decision while `[approver.roles]` is set: the approver's F&O user (from the one mapping, never
/// guessed), whether F&O has it enabled, and the roles it holds enabled in the run's company. `None`
/// when the rules are off; a failed read is [`ApproverSecurity::Unreadable`], on which policy fails closed.
pub async fn read_approver_security(
    client: &FnoClient,
    config: &crate::config::Config,
    approver: &str,
    run: &GovernedRun,
) -> Option<ApproverSecurity> {
    if config.approver.roles.is_empty() {
        return None;
    }
    let Some(user) = config.fno_user_of(approver) else { return Some(ApproverSecurity::Unmapped) };
    let security = &config.security;
    let read = async {
        let enabled = crate::fno::security::user_enabled(client, security, user).await?;
        let company = run.company().map(|c| c.as_str().to_string());
        let roles = match enabled {
            Some(true) => crate::fno::security::assignments(client, security, user)
                .await?
                .into_iter()
                .filter(|a| a.counts_in(company.as_deref()))
                .map(|a| a.role_name)
                .collect(),
            _ => Vec::new(),
        };
        Ok::<_, FnoError>(ApproverSecurity::Read { user: user.to_string(), enabled, roles })
    };
    Some(read.await.unwrap_or_else(|e| ApproverSecurity::Unreadable(e.to_string())))
}

/// The statuses in which an invoice run can make another run a duplicate: it is, or may still become, a
/// real invoice approval.
pub const COUNTING_STATUSES: [RunStatus; 4] =
    [RunStatus::Pending, RunStatus::Approved, RunStatus::Executing, RunStatus::Executed];

/// Whether an invoice run in `status` can make another run a duplicate (one of [`COUNTING_STATUSES`]).
pub fn counts_as_other_invoice(status: RunStatus) -> bool {
    COUNTING_STATUSES.contains(&status)
}

/// For a vendor-invoice run: the other live runs of the same company carrying its vendor and invoice
/// number, so the duplicate-invoice rule sees them (rejected, expired, stale, failed and rolled-back runs
/// do not count). One index probe (`Store::invoices_with_key`), whatever the store holds.
pub fn other_invoices(store: &Store, run: &GovernedRun) -> Result<Vec<OtherInvoice>, StoreError> {
    other_invoices_judged_on(store, run, None)
}

/// [`other_invoices`] of each of `runs` (judged on their before snapshots), asked of the store once for
/// them all: what judging a batch of queue rows needs.
pub fn other_invoices_of(
    store: &Store,
    runs: &[&GovernedRun],
) -> Result<HashMap<RunId, Vec<OtherInvoice>>, StoreError> {
    let keyed: Vec<(&GovernedRun, InvoiceKey)> =
        runs.iter().filter_map(|run| OtherInvoice::of(run).map(|o| (*run, o.key()))).collect();
    let keys: Vec<InvoiceKey> = keyed.iter().map(|(_, key)| key.clone()).collect();
    let found = store.invoices_with_keys(&keys, &COUNTING_STATUSES)?;
    Ok(keyed
        .into_iter()
        .map(|(run, key)| {
            let others = found
                .get(&key)
                .map_or_else(Vec::new, |all| all.iter().filter(|o| o.run_id != run.id).cloned().collect());
            (run.id.clone(), others)
        })
        .collect())
}

/// [`other_invoices`] for `run` judged on `live` (the record a stale run drifted to) as well as on its
/// before snapshot: the rule reads the identity from the record it judges, which may differ.
pub fn other_invoices_judged_on(
    store: &Store,
    run: &GovernedRun,
    live: Option<&Snapshot>,
) -> Result<Vec<OtherInvoice>, StoreError> {
    let mut keys: Vec<InvoiceKey> = OtherInvoice::of(run).map(|o| o.key()).into_iter().collect();
    if let Some(key) = live.and_then(|l| OtherInvoice::judged_on(run, l)).map(|o| o.key())
        && !keys.contains(&key)
    {
        keys.push(key);
    }
    let mut out = Vec::new();
    for key in &keys {
        out.extend(store.invoices_with_key(key, &COUNTING_STATUSES, &run.id)?);
    }
    Ok(out)
}
