//! Integration tests of the binary: CLI verbs and end-to-end runs in a pseudo-terminal: one test binary for the layer (each module is one file of
//! tests/), so two cores link a few binaries instead of fifty.

#[path = "cli_output.rs"]
mod cli_output;
#[path = "cli_runs.rs"]
mod cli_runs;
#[path = "cli_show.rs"]
mod cli_show;
#[path = "e2e_demo.rs"]
mod e2e_demo;
#[path = "e2e_signals.rs"]
mod e2e_signals;
#[path = "e2e_store.rs"]
mod e2e_store;
