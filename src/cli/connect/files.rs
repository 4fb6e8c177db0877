//! Writing the config and the credential files: whole or not at all (a temporary file renamed into
//! place), the credentials owner-only from their first byte.

use std::io::Write as _;
use std::path::Path;

/// Write `text` to `path`, mode 0600, replacing any file there (whatever its mode was).
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomic(path, text, 0o600)
}

/// Write the config: a new one owner-only, an existing one keeping its mode.
pub fn write_config(path: &Path, text: &str) -> anyhow::Result<()> {
    let mode = match std::fs::metadata(path) {
        Ok(meta) => mode_of(&meta),
        Err(_) => 0o600,
    };
    write_atomic(path, text, mode)
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> u32 {
    0o600
}

fn write_atomic(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e} (check the path and its permissions)", dir.display()))?;
    let cannot =
        |e: std::io::Error| anyhow::anyhow!("cannot write {}: {e} (check its directory's permissions)", path.display());
    // tempfile creates the file 0600; the final mode is set before any byte is written.
    let mut file = tempfile::Builder::new().prefix(".signoff-").tempfile_in(dir).map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(mode)).map_err(cannot)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(text.as_bytes()).map_err(cannot)?;
    file.as_file().sync_all().map_err(cannot)?;
    file.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}
