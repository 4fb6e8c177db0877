//! Small, documented rewrites applied after loading, so the rest of signoff sees one spelling.

use std::path::{Path, PathBuf};

use super::Config;
use super::paths::home_dir;
use crate::environment_url::EnvironmentUrl;

/// The environment URL in [`EnvironmentUrl`]'s spelling (F&O compares the token audience to the bare base
/// URL), trailing slashes off the authority host, companies in lowercase (F&O answers `usmf`), `~/` and
/// relative paths anchored at home and the config's directory.
pub(crate) fn normalise(config: &mut Config, config_dir: Option<&Path>) {
    // A URL with a fault is left as written, for validation to report.
    if let Some(url) = &mut config.environment.url
        && let Ok(checked) = EnvironmentUrl::parse(url)
    {
        *url = checked.to_string();
    }
    if let Some(url) = &mut config.auth.authority_host {
        let trimmed = url.trim_end_matches('/').len();
        // Leave `https://` alone so validation can say the host is missing.
        if !url[..trimmed].ends_with(':') {
            url.truncate(trimmed);
        }
    }
    if let Some(c) = &mut config.environment.default_company {
        *c = c.to_ascii_lowercase();
    }
    for p in &mut config.policy.closed_periods {
        p.company = p.company.to_ascii_lowercase();
    }
    for path in [
        &mut config.store.path,
        &mut config.store.password_file,
        &mut config.auth.client_secret_file,
        &mut config.auth.refresh_token_file,
        &mut config.auth.client_certificate_file,
        &mut config.environment.ca_file,
        &mut config.environment.proxy_credentials_file,
        &mut config.approver.allowed_signers,
    ]
    .into_iter()
    .flatten()
    {
        *path = anchor(path, config_dir);
    }
}

fn anchor(path: &Path, config_dir: Option<&Path>) -> PathBuf {
    if path.as_os_str().is_empty() {
        return path.to_path_buf();
    }
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = home_dir()
    {
        return home.join(rest);
    }
    match config_dir {
        Some(dir) if path.is_relative() && !dir.as_os_str().is_empty() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_trailing_slashes_and_relative_paths_follow_the_config_file() {
        let mut c = Config::default();
        c.environment.url = Some("https://usmf.sandbox.operations.dynamics.com//".into());
        c.environment.default_company = Some("USMF".into());
        c.store.path = Some("shared/store.db".into());
        c.auth.client_secret_file = Some("/run/secrets/fno".into());
        normalise(&mut c, Some(Path::new("/srv/signoff")));
        assert_eq!(c.environment.url.as_deref(), Some("https://usmf.sandbox.operations.dynamics.com"));
        assert_eq!(c.environment.default_company.as_deref(), Some("usmf"));
        assert_eq!(c.store.path, Some(PathBuf::from("/srv/signoff/shared/store.db")));
        assert_eq!(c.auth.client_secret_file, Some(PathBuf::from("/run/secrets/fno")));
    }
}
