//! Capturing a record as it stands in F&O: the *before* snapshot a run is reviewed against.
//!
//! One reader for every place signoff looks at a live record: `signoff propose` and `runs recapture`
//! build a run's before snapshot with [`capture`], and the decision pipeline re-reads the record it is
//! about to write with [`read_record`] (`review::revalidate`). Both go through the same client and
//! paging, so a snapshot and its re-validation cannot disagree about what "the record" is.
//!
//! A snapshot holds the header as F&O sent it (every field, `RecId` included), its `@odata.etag`, and —
//! for actions with lines — every line with its own ETag, all pages followed. `captured_at` is when
//! the header was read; `created_by` is taken from the record's `CreatedBy` where the entity exposes it.

use chrono::Utc;

use crate::config::Config;
use crate::fno::{Catalog, EntityKey, FnoClient, FnoError, Query};
use crate::model::{Action, ActorId, FieldValue, Fields, LineSnapshot, Snapshot};
use crate::text::visible;

/// The field F&O data entities name the creating user with, where they expose it.
pub const CREATED_BY: &str = "CreatedBy";

/// Where an action's record is read from: the header entity set, and the line entity set with the
/// line-number key for actions that have lines. The managed object's configured sets win over the
/// action's defaults, as they do for writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSource {
    /// The managed object (config section) the record is written through.
    pub object: String,
    pub header_set: String,
    pub lines: Option<(String, &'static str)>,
}

impl RecordSource {
    /// The sets one of the fixed actions reads and writes under `config` (a generic record action has
    /// none of its own: see [`RecordSource::for_object`]).
    pub fn of(config: &Config, action: Action) -> RecordSource {
        let name = action.managed_object().unwrap_or_default();
        let object = config.managed_objects.get(name);
        let header_set = object
            .map(|m| m.entity_set.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| action.entity_set().unwrap_or_default().into());
        let lines = action.lines().map(|(default_set, key)| {
            let set = object.and_then(|m| m.line_entity_set.clone()).unwrap_or_else(|| default_set.to_string());
            (set, key)
        });
        RecordSource { object: name.to_string(), header_set, lines }
    }

    /// The sets `action` reads and writes: a fixed action's own, or for a generic record action the
    /// configured managed object `object` names (which it must).
    pub fn for_object(config: &Config, action: Action, object: Option<&str>) -> Result<RecordSource, CaptureError> {
        if !action.is_record_action() {
            return Ok(RecordSource::of(config, action));
        }
        let name = object.ok_or(CaptureError::NoObject { verb: action.verb() })?;
        let managed = config.managed_objects.get(name).filter(|m| !m.entity_set.is_empty()).ok_or_else(|| {
            CaptureError::UnknownObject {
                name: visible(name).into_owned(),
                known: config.managed_objects.keys().cloned().collect::<Vec<_>>().join(", "),
            }
        })?;
        Ok(RecordSource { object: name.to_string(), header_set: managed.entity_set.clone(), lines: None })
    }
}

/// Why a record could not be captured.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "{set} is not in the synced metadata, so its keys and types are unknown: run `signoff connector \
         sync-metadata` first"
    )]
    NotSynced { set: String },
    #[error("the key {missing} of {set} is missing: give it with --key {missing}=VALUE (keys of {set}: {all})")]
    MissingKey { set: String, missing: String, all: String },
    #[error("'{name}' is not a key of {set} (its keys: {all}); a record is named by its keys alone")]
    NotAKey { set: String, name: String, all: String },
    #[error("{verb} acts on a managed object: name it with --object NAME (a [managed_objects.NAME] of the config)")]
    NoObject { verb: &'static str },
    #[error(
        "managed object '{name}' is not configured (configured: {known}): add [managed_objects.{name}] with its \
         entity_set and allowlist to the config"
    )]
    UnknownObject { name: String, known: String },
    #[error(
        "{what} already exists in F&O: a create-record run starts from no record; propose update-record to \
         change it, or choose another key"
    )]
    Exists { what: String },
    #[error("reading {what} from F&O failed: {source}")]
    Read {
        what: String,
        #[source]
        source: Box<FnoError>,
    },
}

/// The before snapshot of `action`'s record named by `keys` (every key of the entity, `dataAreaId`
/// included for company-scoped entities, values typed as `$metadata` declares them): the header with
/// its ETag and, for invoices and journals, every line with its ETag. `catalog` (the synced `$metadata`)
/// proves the keys name exactly one record; without one nothing is read.
///
/// A `create-record` run's before state is the proof that no record has these keys: a 404 is captured as
/// an absent snapshot, and a record that exists is refused.
pub async fn capture(
    client: &FnoClient,
    catalog: Option<&Catalog>,
    action: Action,
    source: &RecordSource,
    keys: &Fields,
) -> Result<Snapshot, CaptureError> {
    let catalog = catalog.ok_or_else(|| CaptureError::NotSynced { set: source.header_set.clone() })?;
    check_keys(catalog, &source.header_set, keys)?;
    let lines = source.lines.as_ref().map(|(set, key)| (set.as_str(), *key));
    let what = format!("{}{}", visible(&source.header_set), label(keys));
    let read = if action == Action::CreateRecord {
        match read_record_or_absent(client, &source.header_set, keys).await {
            Ok(found) if !found.absent => return Err(CaptureError::Exists { what }),
            other => other,
        }
    } else {
        read_record(client, &source.header_set, keys, lines).await
    };
    read.map_err(|e| CaptureError::Read { what, source: Box::new(e) })
}

/// Read the record `set(keys)` (one GET, no lines); F&O's 404 is an [absent](Snapshot::absent) snapshot.
pub async fn read_record_or_absent(client: &FnoClient, set: &str, keys: &Fields) -> Result<Snapshot, FnoError> {
    match read_record(client, set, keys, None).await {
        Err(FnoError::NotFound { .. }) => Ok(Snapshot::absent(Utc::now())),
        other => other,
    }
}

/// A role run's record: the user-role row (or its absence) and the user's enabled roles, both read now.
pub async fn read_role_row(
    client: &FnoClient,
    config: &Config,
    set: &str,
    keys: &Fields,
) -> Result<Snapshot, FnoError> {
    let security = &config.security;
    let user = keys.get(&security.user_field).and_then(FieldValue::as_text).ok_or_else(|| FnoError::InvalidUrl {
        url: set.to_string(),
        reason: format!("the target names no user ({})", security.user_field),
    })?;
    let mut snapshot = read_record_or_absent(client, set, keys).await?;
    snapshot.enabled_roles = Some(crate::fno::security::enabled_role_names(client, security, user).await?);
    Ok(snapshot)
}

/// Every key of the set's entity type is given, and nothing else.
pub fn check_keys(catalog: &Catalog, set: &str, keys: &Fields) -> Result<(), CaptureError> {
    let entity = catalog.entity_type_of(set).ok_or_else(|| CaptureError::NotSynced { set: visible(set).into() })?;
    let all = entity.keys.join(", ");
    if let Some(missing) = entity.keys.iter().find(|k| !keys.contains_key(*k)) {
        return Err(CaptureError::MissingKey { set: set.into(), missing: missing.clone(), all });
    }
    if let Some(name) = keys.keys().find(|k| !entity.keys.contains(k)) {
        return Err(CaptureError::NotAKey { set: set.into(), name: visible(name).into(), all });
    }
    Ok(())
}

/// Read the record `set(keys)` (one GET) with its ETag and, when `lines` names a line entity set and
/// its line-number key, every line of the record (one query, all pages), each with its ETag.
pub async fn read_record(
    client: &FnoClient,
    set: &str,
    keys: &Fields,
    lines: Option<(&str, &str)>,
) -> Result<Snapshot, FnoError> {
    let key = EntityKey::from_fields(keys).map_err(|reason| FnoError::InvalidUrl { url: set.to_string(), reason })?;
    let header = client.get_entity(set, &key).await?;
    let captured_at = Utc::now();
    let created_by = header.fields.get(CREATED_BY).and_then(FieldValue::as_text).filter(|s| !s.trim().is_empty());
    let created_by = created_by.map(|s| ActorId(s.to_string()));
    let lines = match lines {
        Some((line_set, line_field)) => read_lines(client, keys, line_set, line_field).await?,
        None => Vec::new(),
    };
    Ok(Snapshot {
        etag: header.etag,
        absent: false,
        captured_at,
        created_by,
        fields: header.fields,
        lines,
        enabled_roles: None,
    })
}

/// Every line of the record named by `keys`, all pages followed; each line's keys are the record's keys
/// plus its line number, as the run format wants them.
async fn read_lines(
    client: &FnoClient,
    keys: &Fields,
    set: &str,
    line_field: &str,
) -> Result<Vec<LineSnapshot>, FnoError> {
    let query = Query { cross_company: keys.contains_key("dataAreaId"), ..Query::matching(keys) };
    let result = client.query(set, &query).await?;
    let mut lines = Vec::with_capacity(result.rows.len());
    for row in result.rows {
        let etag = row.etag.ok_or_else(|| FnoError::InvalidResponse {
            context: set.to_string(),
            reason: "a line came without an ETag (@odata.etag); its version cannot be checked".into(),
        })?;
        let mut line_keys = Fields::new();
        for name in keys.keys().map(String::as_str).chain([line_field]) {
            if let Some(v) = row.fields.get(name) {
                line_keys.insert(name.to_string(), v.clone());
            }
        }
        lines.push(LineSnapshot { keys: line_keys, etag, fields: row.fields });
    }
    Ok(lines)
}

/// `(dataAreaId='usmf',VendorAccountNumber='US-104')`, made visible, for messages.
fn label(keys: &Fields) -> String {
    EntityKey::from_fields(keys).map(|k| visible(&k.odata()).into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ManagedObject;
    use crate::fno::metadata::{EntityType, Property};

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        let mut t = EntityType {
            name: "VendorV2".into(),
            keys: vec!["dataAreaId".into(), "VendorAccountNumber".into()],
            ..Default::default()
        };
        t.properties.insert("dataAreaId".into(), Property::of_type("Edm.String"));
        c.entity_types.insert("VendorV2".into(), t);
        c.entity_sets.insert("VendorsV2".into(), "VendorV2".into());
        c
    }

    fn keys(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().map(|(k, v)| (k.to_string(), FieldValue::Text(v.to_string()))).collect()
    }

    #[test]
    fn a_missing_key_is_named_with_the_option_that_gives_it() {
        let err = check_keys(&catalog(), "VendorsV2", &keys(&[("dataAreaId", "usmf")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the key VendorAccountNumber of VendorsV2 is missing: give it with --key VendorAccountNumber=VALUE \
             (keys of VendorsV2: dataAreaId, VendorAccountNumber)"
        );
    }

    #[test]
    fn a_field_that_is_not_a_key_is_refused() {
        let k = keys(&[("dataAreaId", "usmf"), ("VendorAccountNumber", "US-104"), ("VendorGroupId", "10")]);
        let err = check_keys(&catalog(), "VendorsV2", &k).unwrap_err();
        assert!(err.to_string().starts_with("'VendorGroupId' is not a key of VendorsV2"), "{err}");
        check_keys(&catalog(), "VendorsV2", &keys(&[("dataAreaId", "usmf"), ("VendorAccountNumber", "US-104")]))
            .unwrap();
    }

    #[test]
    fn the_managed_objects_sets_win_over_the_actions_defaults() {
        let mut config = Config::default();
        let object = ManagedObject {
            entity_set: "VendorInvoiceHeadersV2".into(),
            line_entity_set: Some("VendorInvoiceLinesV2".into()),
            ..Default::default()
        };
        config.managed_objects.insert("vendor_invoice".into(), object);
        let source = RecordSource::of(&config, Action::ApproveVendorInvoice);
        assert_eq!(source.header_set, "VendorInvoiceHeadersV2");
        assert_eq!(source.object, "vendor_invoice");
        assert_eq!(source.lines, Some(("VendorInvoiceLinesV2".to_string(), "InvoiceLineNumber")));
        let users = RecordSource::of(&Config::default(), Action::DisableUser);
        assert_eq!(users, RecordSource { object: "user".into(), header_set: "SystemUsers".into(), lines: None });
        let err = RecordSource::for_object(&config, Action::DeleteRecord, Some("customer_group")).unwrap_err();
        assert!(err.to_string().starts_with("managed object 'customer_group' is not configured"), "{err}");
        let err = RecordSource::for_object(&config, Action::DeleteRecord, None).unwrap_err();
        assert!(err.to_string().contains("--object NAME"), "{err}");
    }
}
