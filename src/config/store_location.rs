//! Which store the config selects: a SQLite file, or a PostgreSQL URL with its password from a secret
//! source (`[store] password_env` / `password_file` / `password_command`), never from the URL itself.

use std::path::{Path, PathBuf};

use super::Config;
use super::load::Problem;
use super::secret::{SecretSource, resolve};
use crate::store::pg::{PgTarget, is_postgres_url};
use crate::store::{StoreError, StoreLocation};

/// The fix named whenever a password is written into a store URL.
const PASSWORD_FIX: &str = "remove the password from the URL and give it with [store] password_env, password_file \
                            (owner-only) or password_command";

impl Config {
    /// Where the PostgreSQL password comes from, if configured (validation ensures at most one source).
    pub fn store_password_source(&self) -> Option<SecretSource> {
        let s = &self.store;
        SecretSource::first_of(&s.password_env, &s.password_file, &s.password_command, self.auth.command_timeout())
    }

    /// The store to open: `explicit` (`--store` / `SIGNOFF_STORE`: a path or a `postgres://` URL), else
    /// `[store] url`, else `[store] path`, else `default_file`. A PostgreSQL password is read from its
    /// source now; a URL carrying one is refused.
    pub fn store_location(&self, explicit: Option<&Path>, default_file: PathBuf) -> Result<StoreLocation, StoreError> {
        let explicit_url = explicit.and_then(Path::to_str).filter(|t| is_postgres_url(t));
        let url = match (explicit, explicit_url) {
            (Some(path), None) => return Ok(StoreLocation::File(path.to_path_buf())),
            (_, Some(url)) => url,
            (None, None) => match &self.store.url {
                Some(url) => url.as_str(),
                None => return Ok(StoreLocation::File(self.store.path.clone().unwrap_or(default_file))),
            },
        };
        let failed = |detail: String| StoreError::PgSetting { target: crate::store::pg::shown_url(url), detail };
        if url_password(url) {
            return Err(failed(format!("the store URL contains a password: {PASSWORD_FIX}")));
        }
        let password = match self.store_password_source() {
            Some(source) => Some(resolve(&source).map_err(|e| failed(format!("cannot read its password: {e}")))?),
            None => None,
        };
        // The roots the F&O client trusts; F&O's certificate pins name F&O's host, not the database's.
        let trust = crate::fno::tls::TrustSettings { ca_file: self.environment.ca_file.clone(), pins: Vec::new() };
        Ok(StoreLocation::Postgres(PgTarget { url: url.to_string(), password, trust }))
    }
}

/// Whether `url` carries a password (`postgres://user:secret@host/db`, or `?password=`).
fn url_password(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(parsed) => parsed.password().is_some() || parsed.query_pairs().any(|(k, _)| k == "password"),
        Err(_) => false,
    }
}

/// `config check`'s rules for `[store]`'s PostgreSQL keys. The URL is never echoed.
pub(crate) fn check_store_url(config: &Config, out: &mut Vec<Problem>) {
    let s = &config.store;
    let sources = [
        ("password_env", s.password_env.is_some()),
        ("password_file", s.password_file.is_some()),
        ("password_command", s.password_command.is_some()),
    ];
    let set: Vec<&str> = sources.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect();
    if set.len() > 1 {
        out.push(Problem::at(
            format!("store.{}", set[1]),
            format!("store sets {} password sources ({}): keep exactly one", set.len(), set.join(", ")),
        ));
    }
    for (key, value) in [("password_env", &s.password_env), ("password_command", &s.password_command)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            out.push(Problem::at(format!("store.{key}"), format!("store.{key} is empty")));
        }
    }
    // A password source without `url` is for a PostgreSQL store named elsewhere: `--store postgres://…`,
    // `SIGNOFF_STORE`, or the target of `store migrate --to postgres://…` from a SQLite store.
    let Some(url) = &s.url else { return };
    if !is_postgres_url(url) {
        out.push(Problem::at(
            "store.url",
            "store.url must start with postgres:// or postgresql:// (for a SQLite file, use store.path)",
        ));
        return;
    }
    if url_password(url) {
        out.push(Problem::at("store.url", format!("store.url contains a password: {PASSWORD_FIX}")));
    } else if let Err(e) = url.parse::<tokio_postgres::Config>() {
        out.push(Problem::at("store.url", format!("store.url is not a valid PostgreSQL URL: {e}")));
    }
    if s.path.is_some() {
        out.push(Problem::at("store.path", "store sets both path and url: keep one (url selects PostgreSQL)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Config {
        let mut c = Config::default();
        c.store.url = Some(url.into());
        c
    }

    fn problems(c: &Config) -> Vec<String> {
        let mut out = Vec::new();
        check_store_url(c, &mut out);
        out.iter().map(|p| format!("{p:?}")).collect()
    }

    #[test]
    fn a_password_in_the_url_is_refused_naming_the_fix_and_never_echoed() {
        for url in ["postgres://signoff:hunter2@db.example/signoff", "postgres://signoff@db/s?password=hunter2"] {
            let c = config(url);
            let shown = problems(&c).join("\n");
            assert!(shown.contains("contains a password") && shown.contains("password_env"), "{shown}");
            assert!(!shown.contains("hunter2"), "{shown}");
            let err = c.store_location(None, "x.db".into()).unwrap_err().to_string();
            assert!(err.contains("contains a password") && !err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn the_url_selects_postgres_with_the_password_from_its_source() {
        let mut c = config("postgres://signoff@db.example:5432/signoff");
        c.store.password_env = Some("SIGNOFF_STORE_LOCATION_TEST_PW".into());
        assert!(problems(&c).is_empty(), "{:?}", problems(&c));
        // The variable is unset: the error names the source, the URL is shown.
        let err = c.store_location(None, "x.db".into()).unwrap_err().to_string();
        assert!(err.contains("SIGNOFF_STORE_LOCATION_TEST_PW") && err.contains("db.example"), "{err}");
        c.store.password_env = None;
        let StoreLocation::Postgres(target) = c.store_location(None, "x.db".into()).unwrap() else { panic!() };
        assert_eq!(target.url, "postgres://signoff@db.example:5432/signoff");
        // `--store PATH` wins over the URL; `--store postgres://…` over the path.
        let explicit = c.store_location(Some(Path::new("/tmp/s.db")), "x.db".into()).unwrap();
        assert_eq!(explicit.file(), Some(Path::new("/tmp/s.db")));
        c.store.url = None;
        let url = Path::new("postgres://other@h/db");
        assert!(matches!(c.store_location(Some(url), "x.db".into()).unwrap(), StoreLocation::Postgres(_)));
        assert_eq!(c.store_location(None, "x.db".into()).unwrap().file(), Some(Path::new("x.db")));
    }

    #[test]
    fn url_rules() {
        let mut c = config("mysql://db/x");
        assert!(problems(&c).join("").contains("must start with postgres://"));
        c.store.url = Some("postgres://u@h/d".into());
        c.store.path = Some("s.db".into());
        c.store.password_env = Some("A".into());
        c.store.password_command = Some("pass show db".into());
        let shown = problems(&c).join("\n");
        assert!(shown.contains("both path and url") && shown.contains("keep exactly one"), "{shown}");
        // A password for a store named on the command line (`--store`, `store migrate --to`) only.
        let mut c = Config::default();
        c.store.password_env = Some("A".into());
        assert!(problems(&c).is_empty(), "{:?}", problems(&c));
    }
}
