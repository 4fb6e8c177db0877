//! No secret or bearer token reaches a log event, an error (Display or Debug) or the exchange log.

use crate::fno_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use fno_support::{FakeFno, SECRET, settings_for};
use signoff::fno::{EntityKey, FnoClient, Query};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_or_token_appears_in_logs_errors_or_the_exchange_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (errors, exchanges, tokens) = runtime.block_on(async {
        let fake = FakeFno::start().await;
        let mut settings = fake.settings();
        settings.retry.max_retries = 1;
        let client = FnoClient::new(&settings).unwrap();
        let key = EntityKey::new().text("dataAreaId", "usmf").text("HeaderReference", "APINV-000123");
        let mut errors: Vec<String> = Vec::new();
        client.get_entity("VendorInvoiceHeaders", &key).await.unwrap();
        fake.state.lock().unwrap().valid_from = 1; // the first token expired: 401, refresh, retry
        client.get_entity("VendorInvoiceHeaders", &key).await.unwrap();
        fake.state.lock().unwrap().throttle = (5, 0, 429);
        let throttled = client.query("LedgerJournalLines", &Query::default()).await.unwrap_err();
        errors.push(format!("{throttled} {throttled:?}"));
        let forbidden = client.query("VendorsV2", &Query::default()).await.unwrap_err();
        errors.push(format!("{forbidden} {forbidden:?}"));
        fake.state.lock().unwrap().always_401 = true;
        let unauthorized = client.get_entity("VendorInvoiceHeaders", &key).await.unwrap_err();
        errors.push(format!("{unauthorized} {unauthorized:?}"));
        let wrong = FnoClient::new(&settings_for(&fake.base, &fake.base, "wrong-secret-value-0043")).unwrap();
        let auth = wrong.token_check().await.unwrap_err();
        errors.push(format!("{auth} {auth:?} {wrong:?} {client:?} {settings:?}"));
        let mut exchanges = client.take_exchanges();
        exchanges.extend(wrong.take_exchanges());
        (errors, serde_json::to_string(&exchanges).unwrap(), fake.issued_tokens())
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("F&O answered"), "the capture saw the client's events:\n{logs}");
    assert!(exchanges.contains("Bearer ***") && exchanges.contains("client_secret=***"), "{exchanges}");
    assert!(exchanges.contains(r#"access_token\":\"***"#), "{exchanges}");
    assert!(tokens.len() >= 3, "tokens were issued and renewed: {tokens:?}");
    for text in errors.iter().chain([&logs, &exchanges]) {
        assert!(!text.contains(SECRET), "the client secret leaked into: {text}");
        assert!(!text.contains("wrong-secret-value-0043"), "a wrong secret leaked into: {text}");
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "a bearer token leaked into: {text}");
        }
    }
}
