//! Client assertions as Entra checks them (FNO.md §1): a JWT signed with the key of a certificate
//! registered on the app, naming the app as issuer and subject, for this token endpoint, not expired.
//!
//! The signature is checked with webpki (ring), not the RSA code signoff signs with, so a mistake on one
//! side cannot hide behind the same mistake on the other.

use base64::Engine as _;
use rustls_pki_types::CertificateDer;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::entra::error;
use super::reply::Reply;

/// The `client_assertion_type` of a signed JWT.
pub const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Allowed clock skew, as Entra allows some (5 minutes).
const SKEW_SECS: i64 = 300;

/// What the assertion must match.
pub struct Expected<'a> {
    pub client_id: &'a str,
    /// The token endpoint the request came to: the only accepted `aud`.
    pub audience: &'a str,
    /// The DER certificate registered on the app; none: no certificate credential is registered.
    pub certificate: Option<&'a [u8]>,
}

/// Check `jwt`; the error is Entra's answer.
pub fn check(jwt: &str, expected: &Expected) -> Result<(), Reply> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let malformed =
        || error(400, "invalid_request", 50027, "JWT token is invalid or is malformed (the client assertion).");
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let decode = |p: &str| b64.decode(p).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let (Some(header), Some(claims), Ok(signature)) = (decode(h), decode(c), b64.decode(sig)) else {
        return Err(malformed());
    };
    let thumbprint = header["x5t#S256"].as_str().unwrap_or("");
    let registered = expected.certificate.filter(|der| b64.encode(Sha256::digest(der)) == thumbprint);
    let Some(der) = registered else {
        let shown = b64.decode(thumbprint).map(hex::encode).unwrap_or_default().to_ascii_uppercase();
        return Err(error(
            401,
            "invalid_client",
            700027,
            &format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. \
                 [Reason - The key was not found., Thumbprint of key used by client: '{shown}', Please visit the \
                 Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                expected.client_id
            ),
        ));
    };
    let algorithm = match header["alg"].as_str() {
        Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(error(401, "invalid_client", 700027, "Client assertion failed signature validation.")),
    };
    let cert = CertificateDer::from(der);
    let verified = webpki::EndEntityCert::try_from(&cert)
        .and_then(|ee| ee.verify_signature(algorithm, format!("{h}.{c}").as_bytes(), &signature));
    if verified.is_err() {
        return Err(error(401, "invalid_client", 700027, "Client assertion failed signature validation."));
    }
    let id = expected.client_id;
    if !(claims["iss"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id))
        && claims["sub"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
    {
        return Err(error(
            400,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    if claims["aud"].as_str() != Some(expected.audience) {
        return Err(error(
            400,
            "invalid_client",
            700023,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    let now = chrono::Utc::now().timestamp();
    let (nbf, exp) = (claims["nbf"].as_i64().unwrap_or(0), claims["exp"].as_i64().unwrap_or(0));
    if exp + SKEW_SECS < now || nbf - SKEW_SECS > now || claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(error(
            400,
            "invalid_client",
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from \
                 {nbf}, expiry time of assertion {exp}."
            ),
        ));
    }
    Ok(())
}
