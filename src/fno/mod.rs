//! The F&O connector: Entra tokens, OData, operations, $batch, $metadata, retries. Knows nothing of the UI or the store.
//!
//! Start from [`FnoSettings::from_config`] and [`FnoClient::new`]. Every request and answer is kept, secrets
//! masked, in the client's exchange log ([`FnoClient::take_exchanges`]); in dry-run mode writes are only
//! recorded there.

pub mod assertion;
pub mod auth;
mod auth_error;
pub mod batch;
pub mod certs;
mod client;
pub mod diagnosis;
pub mod encode;
pub mod error;
pub mod exchange;
pub mod keys;
pub mod metadata;
mod odata;
mod operations;
pub mod proxy;
pub mod retry;
pub mod security;
pub mod settings;
pub mod tls;
mod typed;
pub mod url_guard;
pub mod verify;

pub use crate::environment_url::{EnvironmentUrl, UrlFault};
pub use auth::{AuthError, AuthSettings, Credential, TokenProvider};
pub use batch::{BatchOp, BatchPart};
pub use client::{FnoClient, JSON_MINIMAL, Sent};
pub use encode::{EncodeError, Encoder, encode_value};
pub use error::FnoError;
pub use exchange::Exchange;
pub use keys::{EntityKey, KeyValue};
pub use metadata::{Catalog, Property, ServiceDef, parse_csdl};
pub use odata::{Entity, Query, QueryResult, Row};
pub use operations::{NAMESPACE, ServiceDescription, action_value};
pub use retry::RetryPolicy;
pub use settings::{FnoSettings, NetworkSettings, SettingsError};
pub use typed::typed_value;
pub use verify::{Mismatch, describe_services, verify, verify_services};
