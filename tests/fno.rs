//! Integration tests of the F&O connector and the simulator.
//! One test binary per layer (each module is one file of tests/): two cores link six binaries, not fifty.

// Support code shared by the modules below, declared once for the binary.
#[path = "fno_support/mod.rs"]
mod fno_support;
#[path = "net_support/mod.rs"]
mod net_support;
#[path = "sim_support/mod.rs"]
mod sim_support;

#[path = "fno_cli.rs"]
mod fno_cli;
#[path = "fno_client.rs"]
mod fno_client;
#[path = "fno_credentials.rs"]
mod fno_credentials;
#[path = "fno_metadata.rs"]
mod fno_metadata;
#[path = "fno_secrets.rs"]
mod fno_secrets;
#[path = "fno_sim.rs"]
mod fno_sim;
#[path = "fno_tls.rs"]
mod fno_tls;
#[path = "fno_troubleshoot.rs"]
mod fno_troubleshoot;
#[path = "sim_batch.rs"]
mod sim_batch;
#[path = "sim_dialects.rs"]
mod sim_dialects;
#[path = "sim_entra.rs"]
mod sim_entra;
#[path = "sim_faults.rs"]
mod sim_faults;
#[path = "sim_fixtures.rs"]
mod sim_fixtures;
#[path = "sim_lifecycle.rs"]
mod sim_lifecycle;
#[path = "sim_odata.rs"]
mod sim_odata;
#[path = "sim_operations.rs"]
mod sim_operations;
#[path = "sim_types.rs"]
mod sim_types;
