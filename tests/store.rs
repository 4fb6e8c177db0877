//! Integration tests of the store, the run format and the config: one test binary for the layer (each module is one file of
//! tests/), so two cores link a few binaries instead of fifty.

#[path = "config.rs"]
mod config;
#[path = "run_format.rs"]
mod run_format;
#[path = "store_audit.rs"]
mod store_audit;
#[path = "store_import.rs"]
mod store_import;
#[path = "store_leases.rs"]
mod store_leases;
#[path = "store_tamper.rs"]
mod store_tamper;
