//! The bytes a 16-colour terminal understands. crossterm writes every named colour as an indexed one
//! (`ESC[38;5;1m` for red), which a terminal limited to 16 colours — and some tmux and screen set-ups
//! over SSH — may show wrongly or not at all. In 16-colour mode the TUI's writer rewrites indexed colours
//! 0–15 into the basic SGR codes (30–37, 90–97, 40–47, 100–107) that every colour terminal knows.

use std::io::{self, Write};

use ratatui::backend::CrosstermBackend;

use super::theme::Depth;

/// The backend the TUI draws through: crossterm, over [`Sgr16`] when the depth is 16 colours.
pub fn backend<W: Write>(out: W, depth: Depth) -> CrosstermBackend<Sgr16<W>> {
    CrosstermBackend::new(Sgr16 { inner: out, on: depth == Depth::Ansi16, pending: Vec::new() })
}

/// A writer that rewrites `38;5;N` / `48;5;N` (N < 16) in SGR sequences to their basic codes; any other
/// byte passes unchanged. A sequence split across writes is held until its final byte arrives.
pub struct Sgr16<W: Write> {
    inner: W,
    on: bool,
    /// An escape sequence begun but not finished.
    pending: Vec<u8>,
}

/// Longer than any SGR sequence crossterm writes; past it, bytes are passed on as they are.
const MAX_SEQUENCE: usize = 64;

impl<W: Write> Write for Sgr16<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.on {
            return self.inner.write(buf);
        }
        let mut out = Vec::with_capacity(buf.len() + 8);
        for &b in buf {
            if self.pending.is_empty() {
                if b == 0x1b {
                    self.pending.push(b);
                } else {
                    out.push(b);
                }
                continue;
            }
            self.pending.push(b);
            let csi = self.pending.get(1) == Some(&b'[');
            if !csi || self.pending.len() > MAX_SEQUENCE {
                out.append(&mut self.pending);
            } else if self.pending.len() > 2 && (0x40..=0x7e).contains(&b) {
                let sequence = std::mem::take(&mut self.pending);
                match b {
                    b'm' => out.extend(basic_sgr(&sequence)),
                    _ => out.extend(sequence),
                }
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `ESC[1;38;5;9m` → `ESC[1;91m`.
fn basic_sgr(sequence: &[u8]) -> Vec<u8> {
    let params = String::from_utf8_lossy(&sequence[2..sequence.len() - 1]).into_owned();
    let parts: Vec<&str> = params.split(';').collect();
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let index = parts.get(i + 2).and_then(|n| n.parse::<u8>().ok()).filter(|n| *n < 16);
        match (parts[i], parts.get(i + 1), index) {
            ("38", Some(&"5"), Some(n)) => {
                out.push((if n < 8 { 30 + n } else { 90 + n - 8 }).to_string());
                i += 3;
            }
            ("48", Some(&"5"), Some(n)) => {
                out.push((if n < 8 { 40 + n as u16 } else { 100 + n as u16 - 8 }).to_string());
                i += 3;
            }
            (p, _, _) => {
                out.push(p.to_string());
                i += 1;
            }
        }
    }
    format!("\x1b[{}m", out.join(";")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(on: bool, chunks: &[&[u8]]) -> String {
        let mut w = Sgr16 { inner: Vec::new(), on, pending: Vec::new() };
        for c in chunks {
            w.write_all(c).unwrap();
        }
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn indexed_colours_below_16_become_basic_codes_even_when_split_across_writes() {
        assert_eq!(through(true, &[b"\x1b[38;5;1mred\x1b[48;5;12m"]), "\x1b[31mred\x1b[104m");
        assert_eq!(through(true, &[b"\x1b[", b"38;", b"5;9", b"m!"]), "\x1b[91m!");
        assert_eq!(through(true, &[b"\x1b[1;38;5;8;48;5;0m"]), "\x1b[1;90;40m");
    }

    #[test]
    fn other_sequences_and_text_pass_unchanged() {
        let osc52 = b"\x1b]52;c;c2lnbm9mZg==\x07";
        assert_eq!(through(true, &[osc52]).as_bytes(), osc52);
        assert_eq!(through(true, &[b"\x1b[2J\x1b[5;10H\x1b[39m"]), "\x1b[2J\x1b[5;10H\x1b[39m");
        assert_eq!(through(true, &[b"\x1b[38;5;200m"]), "\x1b[38;5;200m", "only the 16 colours are basic");
        assert_eq!(through(false, &[b"\x1b[38;5;1m"]), "\x1b[38;5;1m", "off outside 16-colour mode");
        assert_eq!(through(true, &["株式会社".as_bytes()]), "株式会社");
    }
}
