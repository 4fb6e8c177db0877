//! What every verb needs: resolved paths and the loaded config.

use crate::config::load::{LoadedConfig, load};
use crate::config::paths::{Paths, resolve};
use crate::store::{Store, StoreError, StoreLocation};

use super::failure::{ErrorCode, Failure};
use super::{Globals, output};

/// Resolved paths, the loaded config and the global options.
#[derive(Debug, Clone)]
pub struct Context {
    pub globals: Globals,
    pub paths: Paths,
    pub loaded: LoadedConfig,
}

impl Context {
    pub fn load(globals: &Globals) -> anyhow::Result<Self> {
        let paths = resolve(globals.config.as_deref());
        let loaded = load(&paths.config_file)?;
        Ok(Context { globals: globals.clone(), paths, loaded })
    }

    /// `--store` (or `SIGNOFF_STORE`; a path or a `postgres://` URL), else the config's `store.url`, else
    /// its `store.path`, else `<data dir>/store.db`. A PostgreSQL password is read from its source.
    pub fn store_location(&self) -> Result<StoreLocation, StoreError> {
        self.loaded.config.store_location(self.globals.store.as_deref(), self.paths.default_store())
    }

    /// Open the run store at [`Context::store_location`], creating a SQLite file if needed: owner-only,
    /// or shared with `[store] group`.
    pub fn open_store(&self) -> Result<Store, StoreError> {
        self.store_location()?.open_with(&self.loaded.config.store.access())
    }

    /// Open the store for a read-only verb (`runs list`, `runs show`, `audit verify`): a path that holds
    /// no store is an error, never a new empty store that would make a mistyped `--store` look empty.
    pub fn open_existing_store(&self) -> Result<Store, Failure> {
        let failed = |e: StoreError| Failure::new(ErrorCode::Failed, &e.to_string());
        let location = self.store_location().map_err(failed)?;
        if !location.may_exist() {
            return Err(Failure::new(
                ErrorCode::NoStore,
                &format!("no store at {}; run `signoff runs import` first or pass --store", location.shown()),
            ));
        }
        location.open_with(&self.loaded.config.store.access()).map_err(failed)
    }

    /// Warn on standard error when the store exists and is readable or writable beyond its owner (or
    /// its configured group). Call before the TUI takes the screen: a warning there would be lost.
    pub fn warn_if_store_exposed(&self) {
        let Ok(StoreLocation::File(path)) = self.store_location() else { return };
        for finding in crate::store::exposure(&path, &self.loaded.config.store.access()) {
            output::warn(&format!("warning: {finding}"));
        }
    }

    /// Who is acting, for the store and audit log: the approver identity, else "unknown" (an import or a
    /// metadata sync needs no approver, but still names someone).
    pub fn actor(&self) -> String {
        super::decide::approver_id(&self.loaded.config).unwrap_or_else(|_| "unknown".to_string())
    }
}
