//! Copying through the terminal: OSC 52, which works over SSH because the local terminal does the copy.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// `ESC ] 52 ; c ; <base64> BEL`. Inside tmux the sequence is wrapped in a DCS passthrough (every ESC
/// doubled), which tmux forwards when `allow-passthrough` is on; with `set-clipboard on` tmux also
/// understands the bare form, so the wrapped form is the one that works in both set-ups.
pub fn osc52(text: &str, in_tmux: bool) -> Vec<u8> {
    let bare = format!("\x1b]52;c;{}\x07", STANDARD.encode(text.as_bytes()));
    if in_tmux {
        format!("\x1bPtmux;{}\x1b\\", bare.replace('\x1b', "\x1b\x1b")).into_bytes()
    } else {
        bare.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_written_byte_for_byte() {
        assert_eq!(osc52("RUN-2026-000123", false), b"\x1b]52;c;UlVOLTIwMjYtMDAwMTIz\x07".to_vec());
    }

    #[test]
    fn inside_tmux_osc52_is_wrapped_in_a_dcs_passthrough_with_escs_doubled() {
        assert_eq!(osc52("RUN-2026-000123", true), b"\x1bPtmux;\x1b\x1b]52;c;UlVOLTIwMjYtMDAwMTIz\x07\x1b\\".to_vec());
    }
}
