//! Integration tests of the terminal UI: reducer, views, sources: one test binary for the layer (each module is one file of
//! tests/), so two cores link a few binaries instead of fifty.

#[path = "tui_hostile.rs"]
mod tui_hostile;
#[path = "tui_live.rs"]
mod tui_live;
#[path = "tui_reducer.rs"]
mod tui_reducer;
#[path = "tui_source.rs"]
mod tui_source;
#[path = "tui_views.rs"]
mod tui_views;
