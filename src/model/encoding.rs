//! A run file's bytes as UTF-8 text, or a message that says which encoding it is in and how to fix it.
//!
//! Run files are UTF-8. Windows tools often write something else: PowerShell 5's `Out-File` writes
//! UTF-16, Notepad and `Set-Content -Encoding utf8` add a UTF-8 byte-order mark, and older editors save
//! Windows-1252. A bare "expected value at line 1 column 1" helps no one with those.

use super::locate::Position;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why the bytes are not a UTF-8 text, at a position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotUtf8 {
    pub(crate) at: Position,
    pub(crate) message: String,
}

/// The text of a run file. A UTF-8 byte-order mark is skipped: RFC 8259 allows a reader to ignore it,
/// it carries no meaning, and the run's digest is over canonical JSON, never over the file's bytes.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, NotUtf8> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if let Some(name) = wide_encoding(bytes) {
        return Err(NotUtf8 {
            at: Position::START,
            message: format!(
                "the file is {name}; run files are UTF-8: save it as UTF-8 (in PowerShell: \
                 `Set-Content -Encoding utf8` or `Out-File -Encoding utf8`; in an editor: \"Save with encoding: UTF-8\")"
            ),
        });
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        // Valid up to here by definition, so this cannot fail; columns count characters, like the locator's.
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        let byte = bytes[e.valid_up_to()];
        NotUtf8 {
            at: Position { line, column },
            message: format!(
                "the file is not valid UTF-8 (byte 0x{byte:02X} here cannot start or continue a UTF-8 character); \
                 run files are UTF-8: it may have been saved as Windows-1252 or Latin-1, save it as UTF-8"
            ),
        }
    })
}

/// The name of a UTF-16 or UTF-32 encoding the bytes are in, by byte-order mark or, without one, by
/// the zero bytes an ASCII `{` or whitespace has in them (RFC 4627, section 3).
fn wide_encoding(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32 (little-endian, with a byte-order mark)"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32 (big-endian, with a byte-order mark)"),
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian, with a byte-order mark)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian, with a byte-order mark)"),
        [0, 0, 0, a, ..] if *a != 0 => Some("UTF-32 (big-endian)"),
        [a, 0, 0, 0, ..] if *a != 0 => Some("UTF-32 (little-endian)"),
        [0, a, ..] if *a != 0 => Some("UTF-16 (big-endian)"),
        [a, 0, ..] if *a != 0 => Some("UTF-16 (little-endian)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        assert_eq!(decode(b"\xEF\xBB\xBF{\"id\": 1}"), Ok("{\"id\": 1}"));
        assert_eq!(decode("{\"VendorName\": \"深圳\"}".as_bytes()), Ok("{\"VendorName\": \"深圳\"}"));
    }

    #[test]
    fn utf16_and_utf32_are_named_with_or_without_a_byte_order_mark() {
        let name = |bytes: &[u8]| decode(bytes).unwrap_err().message;
        assert!(name(&utf16le("{}", true)).starts_with("the file is UTF-16 (little-endian, with a byte-order mark)"));
        assert!(name(&utf16le("{}", false)).starts_with("the file is UTF-16 (little-endian);"));
        let be: Vec<u8> = "{}".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert!(name(&be).starts_with("the file is UTF-16 (big-endian);"));
        assert!(name(b"\xFF\xFE\0\0{\0\0\0").starts_with("the file is UTF-32 (little-endian, with a byte-order mark)"));
        assert!(name(&utf16le("{}", true)).contains("save it as UTF-8"));
    }

    #[test]
    fn invalid_utf8_is_placed_at_its_line_and_character_column() {
        let err = decode(b"{\n  \"VendorName\": \"Caf\xE9 M\xFCller\"\n}").unwrap_err();
        assert_eq!(err.at, Position { line: 2, column: 21 });
        assert!(err.message.contains("byte 0xE9") && err.message.contains("Windows-1252"), "{}", err.message);
        assert!(decode(b"").is_ok() && decode(b"\xEF\xBB\xBF").is_ok());
    }
}
