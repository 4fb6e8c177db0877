//! Integration tests of the store, the run format and the config.
//! One test binary per layer (each module is one file of tests/): two cores link six binaries, not fifty.

// Support code shared by the modules below, declared once for the binary.
#[path = "store_common/mod.rs"]
mod common;

#[path = "config.rs"]
mod config;
#[path = "run_format.rs"]
mod run_format;
#[path = "store_audit.rs"]
mod store_audit;
#[path = "store_import.rs"]
mod store_import;
#[path = "store_invoices.rs"]
mod store_invoices;
#[path = "store_leases.rs"]
mod store_leases;
#[path = "store_roles.rs"]
mod store_roles;
#[path = "store_tamper.rs"]
mod store_tamper;
#[path = "store_tls.rs"]
mod store_tls;
#[path = "store_watch.rs"]
mod store_watch;
