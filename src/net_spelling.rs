//! How a key pin and a proxy URL are written. Config validation and the connector both ask this module,
//! so what the config accepts is what the connector uses (it sits below both, like `environment_url`).

use base64::Engine as _;
use url::Url;

/// A `pinned_sha256` value: base64 (standard or url-safe, padding optional, an optional `sha256/` prefix)
/// or hex (colons allowed) of a SHA-256 digest.
pub fn parse_pin(text: &str) -> Option<[u8; 32]> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let text = text.trim();
    let text = text.strip_prefix("sha256/").unwrap_or(text);
    let hex_text: String = text.chars().filter(|c| *c != ':').collect();
    if hex_text.len() == 64
        && let Ok(bytes) = hex::decode(&hex_text)
    {
        return bytes.try_into().ok();
    }
    let bytes = STANDARD.decode(text).ok().or_else(|| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())?;
    bytes.try_into().ok()
}

/// A proxy URL: `http://` or `https://` and a host; a bare `host:port` means `http://host:port`. The
/// reason never repeats the text (it may hold a password).
pub fn parse_proxy(text: &str) -> Result<Url, String> {
    let text = text.trim();
    let text = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
    let url = Url::parse(&text).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("it needs http:// or https:// and a host".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn a_pin_reads_as_base64_hex_or_colon_hex_and_nothing_else() {
        let digest: [u8; 32] = Sha256::digest(b"spki").into();
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        let hex_text = hex::encode(digest);
        let colons = digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
        for text in [b64.clone(), url, hex_text, colons, format!("sha256/{b64}")] {
            assert_eq!(parse_pin(&text), Some(digest), "{text}");
        }
        assert_eq!(parse_pin("not-a-pin"), None);
        assert_eq!(parse_pin(&base64::engine::general_purpose::STANDARD.encode([1u8; 20])), None);
    }

    #[test]
    fn a_proxy_needs_http_and_a_host() {
        assert_eq!(parse_proxy("proxy.contoso.com:3128").unwrap().as_str(), "http://proxy.contoso.com:3128/");
        assert!(parse_proxy("ftp://proxy").is_err() && parse_proxy("http://").is_err());
    }
}
