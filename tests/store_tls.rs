//! The PostgreSQL store over TCP is reached through TLS with the F&O client's trust settings: the test
//! cluster listens on 127.0.0.1 with a certificate from a CA made for the run (`.ci/postgres.sh`), and
//! refuses connections without TLS. Unknown to the system's roots, the server is refused, naming the
//! certificate; with the CA as `[environment] ca_file`, or its key pinned, the store opens; with a pin of
//! another key it is refused.

use crate::common;

use common::backends::pg_target;
use signoff::fno::tls::TrustSettings;
use signoff::store::pg::PgTarget;
use signoff::store::{Store, StoreError};

/// The test schema's URL moved from the Unix socket to TCP on localhost (TLS), and the CA's file.
fn over_tls(test: &str) -> Option<(PgTarget, std::path::PathBuf)> {
    let socket = pg_target(test)?;
    let (Ok(tls), Ok(ca)) = (std::env::var("SIGNOFF_TEST_PG_TLS"), std::env::var("SIGNOFF_TEST_PG_CA")) else {
        panic!("{test}: SIGNOFF_TEST_PG_TLS and SIGNOFF_TEST_PG_CA come with SIGNOFF_TEST_PG (.ci/postgres.sh)");
    };
    let options = socket.url.split_once("options=").map(|(_, o)| o).unwrap();
    let target = PgTarget { url: format!("{tls}?options={options}"), ..socket };
    Some((target, ca.into()))
}

fn refusal(target: &PgTarget) -> String {
    match Store::open_postgres(target) {
        Err(e @ StoreError::PgConnect { .. }) => e.to_string(),
        other => panic!("expected the connection to be refused, got {other:?}"),
    }
}

#[test]
fn the_store_over_tcp_is_reached_through_tls_trusting_what_the_fno_client_trusts() {
    let Some((target, ca)) = over_tls("the_store_over_tcp_is_reached_through_tls") else { return };
    let password = target.password.as_ref().unwrap().expose().to_string();

    // The system's roots alone do not know the test CA.
    let refused = refusal(&PgTarget { trust: TrustSettings::default(), ..target.clone() });
    assert!(refused.contains("unknown issuer") && refused.contains("[environment] ca_file"), "{refused}");
    assert!(!refused.contains(&password), "the password is never shown");

    // The CA as ca_file: the store opens and works.
    let trusted = PgTarget { trust: TrustSettings { ca_file: Some(ca.clone()), pins: vec![] }, ..target.clone() };
    let store = Store::open_postgres(&trusted).unwrap_or_else(|e| panic!("{e}"));
    let run = common::invoice("RUN-TLS-000001", 1, "usmf", "10.00");
    store.import(std::slice::from_ref(&run), "ap").unwrap();
    assert_eq!(store.verify_audit().unwrap().events, 1);

    // A pin of another key refuses even a chain the CA vouches for.
    let pinned = PgTarget { trust: TrustSettings { ca_file: Some(ca), pins: vec![[7u8; 32]] }, ..target.clone() };
    let refused = refusal(&pinned);
    assert!(refused.contains("does not match [environment] pinned_sha256"), "{refused}");
}
