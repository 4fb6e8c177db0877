//! Newtypes for identifiers that must not be mixed up.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
    };
}

string_id!(
    /// A governed run's id, unique in a store (e.g. `RUN-2026-000123`).
    RunId
);
string_id!(
    /// An OData ETag exactly as F&O sent it (`W/"JzEsNjg3MTk1MTIyNjEn"`); opaque.
    ETag
);
string_id!(
    /// A person or automation identity (UPN, F&O user id or service name).
    ActorId
);

/// An F&O legal entity id. F&O answers in lowercase (`usmf`), so it is kept lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DataAreaId(String);

impl DataAreaId {
    pub fn new(id: &str) -> Self {
        DataAreaId(id.to_ascii_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DataAreaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
