//! Integration tests of the binary: CLI verbs and end-to-end runs in a pseudo-terminal.
//! One test binary per layer (each module is one file of tests/): two cores link six binaries, not fifty.

// Support code shared by the modules below, declared once for the binary.
#[path = "store_common/mod.rs"]
mod common;
#[path = "e2e_support/mod.rs"]
mod e2e_support;
#[path = "pty_support/mod.rs"]
mod pty_support;
#[path = "review_support/mod.rs"]
mod review_support;

#[path = "cli_connect.rs"]
mod cli_connect;
#[path = "cli_output.rs"]
mod cli_output;
#[path = "cli_propose.rs"]
mod cli_propose;
#[path = "cli_records.rs"]
mod cli_records;
#[path = "cli_roles.rs"]
mod cli_roles;
#[path = "cli_runs.rs"]
mod cli_runs;
#[path = "cli_show.rs"]
mod cli_show;
#[path = "cli_workers.rs"]
mod cli_workers;
#[path = "e2e_busy.rs"]
mod e2e_busy;
#[path = "e2e_demo.rs"]
mod e2e_demo;
#[path = "e2e_inbox.rs"]
mod e2e_inbox;
#[path = "e2e_kill.rs"]
mod e2e_kill;
#[path = "e2e_load.rs"]
mod e2e_load;
#[path = "e2e_migrate.rs"]
mod e2e_migrate;
#[path = "e2e_postgres.rs"]
mod e2e_postgres;
#[path = "e2e_postgres_tui.rs"]
mod e2e_postgres_tui;
#[path = "e2e_race.rs"]
mod e2e_race;
#[path = "e2e_setup.rs"]
mod e2e_setup;
#[path = "e2e_signals.rs"]
mod e2e_signals;
#[path = "e2e_store.rs"]
mod e2e_store;
