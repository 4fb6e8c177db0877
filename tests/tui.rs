//! Integration tests of the terminal UI: reducer, views, sources.
//! One test binary per layer (each module is one file of tests/): two cores link six binaries, not fifty.

// Support code shared by the modules below, declared once for the binary.
#[path = "common/mod.rs"]
mod common;

#[path = "tui_color16.rs"]
mod tui_color16;
#[path = "tui_handover.rs"]
mod tui_handover;
#[path = "tui_hostile.rs"]
mod tui_hostile;
#[path = "tui_layout.rs"]
mod tui_layout;
#[path = "tui_live.rs"]
mod tui_live;
#[path = "tui_nothing_cut.rs"]
mod tui_nothing_cut;
#[path = "tui_reducer.rs"]
mod tui_reducer;
#[path = "tui_source.rs"]
mod tui_source;
#[path = "tui_views.rs"]
mod tui_views;
