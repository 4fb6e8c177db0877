//! Making hostile strings visible.
//!
//! In an approval tool "looks identical, differs" is a fraud vector, so every value shown to a person
//! passes through [`visible`]: control characters become caret notation (`^[`), and bidi overrides,
//! zero-width, tag, variation-selector, line-separator, filler and other invisible format characters
//! become `⟨U+202E⟩`. Nothing raw reaches a terminal.
//!
//! [`classify`] is the one predicate: the views, the CLI's text and JSON output
//! ([`terminal_safe_json`]) and the policy's `hostile.invisible` rule (through [`invisibles`]) all ask it,
//! so what is escaped on screen is exactly what policy flags.

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
    /// Tag characters (U+E0000–U+E007F): invisible, yet they can carry a hidden ASCII message.
    Tag,
    /// Variation selectors: invisible, they change how the character before them looks.
    VariationSelector,
    /// U+2028 and U+2029: line and paragraph separators that break a value across lines.
    LineSeparator,
    /// Hangul fillers: drawn as blanks, so a value can look shorter or empty.
    Filler,
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
        '\u{e0000}'..='\u{e007f}' => Some(Invisible::Tag),
        '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}' => Some(Invisible::VariationSelector),
        '\u{2028}' | '\u{2029}' => Some(Invisible::LineSeparator),
        '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' => Some(Invisible::Filler),
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
            Invisible::Tag => "tag characters (hidden text)",
            Invisible::VariationSelector => "variation selectors",
            Invisible::LineSeparator => "line or paragraph separators",
            Invisible::Filler => "blank filler characters",
        }
    }
}

/// JSON text with every raw DEL, C1 and other invisible character ([`classify`]) written as a `\uXXXX`
/// escape, so a stored value (kept exactly) cannot reorder or hide text on the terminal. Lossless: inside a
/// JSON string the escape and the raw character are the same value, and JSON's structure is plain ASCII.
/// serde_json already escapes the C0 controls (ESC, BEL). Every JSON the CLI prints goes through here.
pub fn terminal_safe_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| c >= '\u{7f}' && classify(c).is_some()) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c >= '\u{7f}' && classify(c).is_some() {
            for unit in c.encode_utf16(&mut [0u16; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
    fn tags_variation_selectors_separators_and_fillers_are_named_by_code_point() {
        // "US-101" followed by the tag-encoded text "PAY" that no terminal draws.
        assert_eq!(visible("US-101\u{e0050}\u{e0041}\u{e0059}"), "US-101⟨U+E0050⟩⟨U+E0041⟩⟨U+E0059⟩");
        assert_eq!(visible("Contoso\u{fe0f}"), "Contoso⟨U+FE0F⟩");
        assert_eq!(visible("A\u{e0100}"), "A⟨U+E0100⟩");
        assert_eq!(visible("Net30\u{2028}Net60\u{2029}"), "Net30⟨U+2028⟩Net60⟨U+2029⟩");
        assert_eq!(visible("\u{3164}\u{115f}\u{1160}\u{ffa0}"), "⟨U+3164⟩⟨U+115F⟩⟨U+1160⟩⟨U+FFA0⟩");
        assert_eq!(
            invisibles("\u{e0041}\u{fe00}\u{2028}\u{3164}"),
            vec![Invisible::Tag, Invisible::VariationSelector, Invisible::LineSeparator, Invisible::Filler]
        );
    }

    #[test]
    fn every_invisible_look_alike_is_classified() {
        let all = [
            '\u{00ad}',
            '\u{034f}',
            '\u{061c}',
            '\u{115f}',
            '\u{1160}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2060}',
            '\u{2061}',
            '\u{2062}',
            '\u{2063}',
            '\u{2064}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{3164}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{ffa0}',
            '\u{e0000}',
            '\u{e0001}',
            '\u{e007f}',
            '\u{e0100}',
            '\u{e01ef}',
        ];
        for c in all {
            assert!(classify(c).is_some(), "U+{:04X} is not escaped", c as u32);
            assert_eq!(visible(&c.to_string()), format!("⟨U+{:04X}⟩", c as u32));
        }
        for c in ['\u{fdff}', '\u{fe10}', '\u{e0080}', '\u{e01f0}', '\u{3165}', '\u{2027}', '\u{202f}'] {
            assert_eq!(classify(c), None, "U+{:04X} is ordinary", c as u32);
        }
    }

    #[test]
    fn hostile_characters_in_json_become_escapes_that_parse_back_to_the_same_value() {
        let value = serde_json::json!({
            "InvoiceNumber": "INV-\u{202e}0001-FDP",
            "VendorName": "Tailspin\u{1b}[2J\u{7f}\u{200b}\u{9b}",
            "Tagged": "US-101\u{e0041}\u{fe0f}\u{2028}",
        });
        let text = terminal_safe_json(&serde_json::to_string_pretty(&value).unwrap()).into_owned();
        assert!(!text.chars().any(|c| c != '\n' && classify(c).is_some()), "{text}");
        assert!(text.contains("INV-\\u202e0001-FDP"), "{text}");
        assert!(text.contains("US-101\\udb40\\udc41\\ufe0f\\u2028"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }

    #[test]
    fn ordinary_text_including_cjk_is_untouched_and_borrowed() {
        assert!(matches!(visible("株式会社コントソ — Zürich"), Cow::Borrowed(_)));
    }
}
