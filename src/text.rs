//! Making hostile strings visible.
//!
//! In an approval tool "looks identical, differs" is a fraud vector, so every value shown to a person
//! passes through [`visible`]: control characters become caret notation (`^[`), and bidi overrides,
//! zero-width and other invisible format characters become `⟨U+202E⟩`. Nothing raw reaches a terminal.

use std::borrow::Cow;

/// Why a character was made visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invisible {
    /// C0/C1 control characters and DEL (ESC starts terminal escape sequences).
    Control,
    /// Bidirectional overrides, embeddings, isolates and marks.
    Bidi,
    /// Zero-width and other invisible format characters.
    ZeroWidth,
}

/// Classify a character that must not be shown raw.
pub fn classify(c: char) -> Option<Invisible> {
    match c {
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some(Invisible::Control),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' => {
            Some(Invisible::Bidi)
        }
        '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{180e}' | '\u{034f}' => {
            Some(Invisible::ZeroWidth)
        }
        _ => None,
    }
}

/// The string with every control, bidi and zero-width character replaced by a visible marker.
/// Borrowed when there is nothing to replace (the common case).
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| classify(c).is_some()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// Append `c`, escaped if it is invisible or a control character.
pub fn push_visible(out: &mut String, c: char) {
    match classify(c) {
        Some(Invisible::Control) if (c as u32) < 0x20 => {
            out.push('^');
            out.push(char::from(b'@' + c as u8));
        }
        Some(Invisible::Control) if c == '\u{7f}' => out.push_str("^?"),
        Some(_) => out.push_str(&format!("⟨U+{:04X}⟩", c as u32)),
        None => out.push(c),
    }
}

/// Every distinct kind of invisible character in `s`, in order of first appearance.
pub fn invisibles(s: &str) -> Vec<Invisible> {
    let mut found = Vec::new();
    for kind in s.chars().filter_map(classify) {
        if !found.contains(&kind) {
            found.push(kind);
        }
    }
    found
}

impl Invisible {
    pub fn describe(self) -> &'static str {
        match self {
            Invisible::Control => "control characters (terminal escape sequences)",
            Invisible::Bidi => "bidirectional override characters",
            Invisible::ZeroWidth => "zero-width characters",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_caret_notation() {
        assert_eq!(visible("\u{1b}[31mRED\u{1b}[0m"), "^[[31mRED^[[0m");
        assert_eq!(visible("a\u{7f}b\tc"), "a^?b^Ic");
    }

    #[test]
    fn osc52_clipboard_write_is_visible() {
        let hostile = "Contoso\u{1b}]52;c;ZXZpbA==\u{7}";
        let shown = visible(hostile);
        assert_eq!(shown, "Contoso^[]52;c;ZXZpbA==^G");
        assert!(!shown.contains('\u{1b}'));
    }

    #[test]
    fn bidi_and_zero_width_are_named_by_code_point() {
        assert_eq!(visible("US-1\u{202e}01"), "US-1⟨U+202E⟩01");
        assert_eq!(visible("US\u{200b}-101"), "US⟨U+200B⟩-101");
        assert_eq!(
            invisibles("a\u{200b}\u{202e}\u{1b}"),
            vec![Invisible::ZeroWidth, Invisible::Bidi, Invisible::Control]
        );
    }

    #[test]
    fn ordinary_text_including_cjk_is_untouched_and_borrowed() {
        assert!(matches!(visible("株式会社コントソ — Zürich"), Cow::Borrowed(_)));
    }
}
