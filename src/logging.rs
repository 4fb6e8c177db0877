//! Logs go to a file under the state directory, never to the terminal the TUI owns.
