//! signoff: review and approve governed runs against Dynamics 365 Finance & Operations.
//!
//! Data flows one way: store → review → view. See `../shared/DESIGN.md` for the architecture.

pub mod cli;
pub mod config;
pub mod diff;
pub mod environment_url;
pub mod fno;
pub mod judge;
pub mod logging;
pub mod model;
pub mod net_spelling;
pub mod policy;
pub mod review;
pub mod rollback;
pub mod run_file;
pub mod sign;
pub mod sim;
pub mod store;
pub mod text;
pub mod tui;
