//! `--color 16`: the bytes written to the terminal carry only the basic SGR colours (30–37, 90–97,
//! 40–47, 100–107), never 256-colour (`38;5`) or truecolor (`38;2`) sequences, in every built-in theme.

use crate::common;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use common::{Harness, options};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use signoff::config::ColorMode;
use signoff::tui::app::draw_frame;
use signoff::tui::sgr16;
use signoff::tui::theme::BUILTIN;

/// A `Vec<u8>` the test keeps a handle on while the terminal owns the writer.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The bytes of one full frame of `h`, drawn through the TUI's real crossterm backend.
fn frame_bytes(h: &Harness) -> Vec<u8> {
    let area = Rect::new(0, 0, h.state.width, h.state.height);
    let out = Shared::default();
    let backend = sgr16::backend(out.clone(), h.theme.depth);
    let mut terminal =
        Terminal::with_options(backend, TerminalOptions { viewport: Viewport::Fixed(area) }).expect("a terminal");
    draw_frame(&mut terminal, &h.state, &h.theme).expect("a frame");
    out.0.lock().expect("not poisoned").clone()
}

/// Every SGR parameter list (`ESC [ … m`) in `bytes`.
fn sgr_params(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split('\u{1b}')
        .filter_map(|s| s.strip_prefix('['))
        .filter_map(|s| {
            let end = s.find(|c: char| ('\u{40}'..='\u{7e}').contains(&c))?;
            (s.as_bytes()[end] == b'm').then(|| s[..end].to_string())
        })
        .collect()
}

fn assert_basic_colours_only(bytes: &[u8], at: &str) {
    let params = sgr_params(bytes);
    assert!(!params.is_empty(), "{at}: no SGR sequence at all");
    let mut coloured = false;
    for p in &params {
        let codes: Vec<&str> = p.split(';').collect();
        assert!(!p.contains("38;5") && !p.contains("48;5"), "{at}: 256-colour sequence ESC[{p}m");
        assert!(!p.contains("38;2") && !p.contains("48;2"), "{at}: truecolor sequence ESC[{p}m");
        for code in codes {
            let n: u16 = code.parse().unwrap_or_else(|_| panic!("{at}: odd SGR parameter '{code}' in ESC[{p}m"));
            let basic_colour = matches!(n, 30..=37 | 90..=97 | 40..=47 | 100..=107);
            coloured |= basic_colour;
            // Attributes (0–29) and the resets of foreground, background and underline colour (39, 49, 59).
            assert!(basic_colour || matches!(n, 0..=29 | 39 | 49 | 59), "{at}: SGR code {n} in ESC[{p}m");
        }
    }
    assert!(coloured, "{at}: 16-colour mode drew no colour at all");
}

#[test]
fn sixteen_colour_mode_writes_only_the_basic_sgr_colours_in_every_theme() {
    for (theme, _) in BUILTIN {
        let mut opts = options(ColorMode::Ansi16);
        opts.theme = Some(theme.to_string());
        let mut h = Harness::with_options(120, 40, opts);
        assert_basic_colours_only(&frame_bytes(&h), &format!("{theme}: queue"));
        h.select("run-inv-usmf-apinv-000131");
        h.press("enter");
        assert_basic_colours_only(&frame_bytes(&h), &format!("{theme}: stale run"));
        h.press("a");
        assert_basic_colours_only(&frame_bytes(&h), &format!("{theme}: approve dialog"));
        h.press("esc ?");
        assert_basic_colours_only(&frame_bytes(&h), &format!("{theme}: help"));
    }
}
