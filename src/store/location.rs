//! Where a store is: a SQLite file or a PostgreSQL database. Everything that opens a store, or keeps a
//! file about one (the busy-store evidence journal), goes through [`StoreLocation`].

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::pg::PgTarget;
use super::{Store, StoreAccess, StoreError};

/// Which store to open.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL database (its URL, password and TLS trust).
    Postgres(PgTarget),
}

impl StoreLocation {
    /// Open the store, creating a SQLite file owner-only when it does not exist.
    pub fn open(&self) -> Result<Store, StoreError> {
        self.open_with(&StoreAccess::default())
    }

    /// Open the store; a new SQLite file is created for `access` (PostgreSQL's access is its roles').
    pub fn open_with(&self, access: &StoreAccess) -> Result<Store, StoreError> {
        match self {
            StoreLocation::File(path) => Store::open_with(path, access),
            StoreLocation::Postgres(target) => Store::open_postgres(target),
        }
    }

    /// Whether a store may already be here: the file exists; a database always may (opening tells).
    pub fn may_exist(&self) -> bool {
        match self {
            StoreLocation::File(path) => path.exists(),
            StoreLocation::Postgres(_) => true,
        }
    }

    /// The SQLite file, if this is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            StoreLocation::File(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }

    /// How to name the store to people: the file's path, or the URL without any password.
    pub fn shown(&self) -> String {
        match self {
            StoreLocation::File(path) => path.display().to_string(),
            StoreLocation::Postgres(target) => target.shown(),
        }
    }

    /// Where evidence is kept aside while the store stays busy: `<store>.pending/` beside a SQLite file;
    /// for PostgreSQL, `<state dir>/postgres/<hash of the URL>.pending/` (the URL names one database).
    pub fn pending_dir(&self) -> PathBuf {
        match self {
            StoreLocation::File(path) => {
                let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                name.push(".pending");
                path.with_file_name(name)
            }
            StoreLocation::Postgres(target) => {
                let state = crate::config::paths::resolve(None).state_dir;
                state.join("postgres").join(format!("{}.pending", url_key(&target.url)))
            }
        }
    }
}

/// A file-name-safe key for a PostgreSQL URL (its password, if written into it, left out).
pub(crate) fn url_key(url: &str) -> String {
    hex::encode(Sha256::digest(super::pg::shown_url(url).as_bytes()))[..32].to_string()
}

impl From<&Path> for StoreLocation {
    fn from(path: &Path) -> Self {
        StoreLocation::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for StoreLocation {
    fn from(path: &PathBuf) -> Self {
        StoreLocation::File(path.clone())
    }
}

impl From<PathBuf> for StoreLocation {
    fn from(path: PathBuf) -> Self {
        StoreLocation::File(path)
    }
}

impl From<&StoreLocation> for StoreLocation {
    fn from(location: &StoreLocation) -> Self {
        location.clone()
    }
}
