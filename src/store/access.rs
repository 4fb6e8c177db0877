//! Who may read the store file: its owner only (0600), or a unix group on a shared jump host (0660).
//!
//! The store holds every run, F&O's answers and the audit chain, so it is never created readable by
//! others. The file is made in full (mode, group) under a temporary name and then linked into place,
//! which fails if another process got there first: a store is never seen with the wrong mode, and
//! several processes creating it at once all end up opening the one file.

use std::fs::{DirBuilder, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::StoreError;

/// How the store file is shared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreAccess {
    /// The unix group approvers share the store through (`[store] group`); none: owner only.
    pub group: Option<String>,
}

impl StoreAccess {
    /// The store file's mode.
    pub fn file_mode(&self) -> u32 {
        if self.group.is_some() { 0o660 } else { 0o600 }
    }

    /// The mode of a store directory signoff creates: setgid for a group, so the `-wal` and `-shm` files
    /// SQLite creates next to the store inherit the group.
    pub fn dir_mode(&self) -> u32 {
        if self.group.is_some() { 0o2770 } else { 0o750 }
    }

    /// The permission bits that expose the store beyond who should reach it.
    fn exposing_bits(&self) -> u32 {
        if self.group.is_some() { 0o007 } else { 0o077 }
    }
}

/// The id of the unix group `name`, or an error saying it does not exist.
pub fn group_id(name: &str) -> Result<u32, StoreError> {
    let missing = || StoreError::NoSuchGroup { group: name.to_string() };
    let c_name = std::ffi::CString::new(name).map_err(|_| missing())?;
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: getgrnam_r writes only into `group` and `buf` (whose length it is given) and sets
        // `result` to null or to `&group`; nothing here outlives the call but the gid copied out.
        let (code, found, gid) = unsafe {
            let mut group: libc::group = std::mem::zeroed();
            let mut result: *mut libc::group = std::ptr::null_mut();
            let code = libc::getgrnam_r(c_name.as_ptr(), &mut group, buf.as_mut_ptr().cast(), buf.len(), &mut result);
            (code, !result.is_null(), group.gr_gid)
        };
        match code {
            0 if found => return Ok(gid),
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            _ => return Err(missing()),
        }
    }
}

/// Create the store file at `path` (and its directory) with `access`, unless it exists already.
pub(crate) fn create(path: &Path, access: &StoreAccess) -> Result<(), StoreError> {
    let gid = access.group.as_deref().map(group_id).transpose()?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir(dir, access, gid)?;
    if path.exists() {
        return Ok(());
    }
    let made = |source| StoreError::Create { path: path.to_path_buf(), source };
    let file = tempfile::Builder::new().prefix(".store-new-").tempfile_in(dir).map_err(made)?;
    // Set explicitly, not through the creation mode: the umask would strip the group bits.
    file.as_file().set_permissions(Permissions::from_mode(access.file_mode())).map_err(made)?;
    if let Some(gid) = gid {
        std::os::unix::fs::fchown(file.as_file(), None, Some(gid)).map_err(made)?;
    }
    match file.persist_noclobber(path) {
        Ok(_) => Ok(()),
        // Another process created it first: that one is the store, made the same way.
        Err(e) if e.error.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(made(e.error)),
    }
}

/// The store's directory, created if missing: its last part with [`StoreAccess::dir_mode`] and group.
fn create_dir(dir: &Path, access: &StoreAccess, gid: Option<u32>) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let failed = |source| StoreError::CreateDir { path: dir.to_path_buf(), source };
    if let Some(up) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(up).map_err(failed)?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            if let Some(gid) = gid {
                std::os::unix::fs::chown(dir, None, Some(gid)).map_err(failed)?;
            }
            // After the chown, which clears the setgid bit on some systems.
            std::fs::set_permissions(dir, Permissions::from_mode(access.dir_mode())).map_err(failed)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(failed(e)),
    }
}

/// Give the store's `-wal` and `-shm` files the store's group when they lack it (SQLite creates them
/// with the mode of the store, but with the creating process's group). Best effort: only the owner
/// of a file may change it, and the next owner to open the store will.
pub(crate) fn share_siblings(path: &Path, access: &StoreAccess) {
    let Some(gid) = access.group.as_deref().and_then(|g| group_id(g).ok()) else { return };
    for sibling in siblings(path) {
        if let Ok(meta) = std::fs::metadata(&sibling)
            && meta.gid() != gid
            && let Err(e) = std::os::unix::fs::chown(&sibling, None, Some(gid))
        {
            tracing::warn!(file = %sibling.display(), "cannot give the store's group to this file: {e}");
        }
    }
}

fn siblings(path: &Path) -> [PathBuf; 2] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with("-wal"), with("-shm")]
}

/// What exposes the store at `path` beyond `access`: each finding names the file, its mode and the fix.
/// Empty when the store does not exist yet (it will be created right).
pub fn exposure(path: &Path, access: &StoreAccess) -> Vec<String> {
    let gid = access.group.as_deref().and_then(|g| group_id(g).ok());
    let mut found = Vec::new();
    for file in std::iter::once(path.to_path_buf()).chain(siblings(path)) {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        let mode = meta.mode() & 0o7777;
        let shown = file.display();
        if mode & access.exposing_bits() != 0 {
            let (who, bits) = if mode & 0o007 != 0 {
                ("every user of this machine", mode & 0o007)
            } else {
                ("its group", (mode >> 3) & 0o007)
            };
            let what = match (bits & 0o4 != 0, bits & 0o2 != 0) {
                (true, true) => "read and write it",
                (false, true) => "write it",
                _ => "read it",
            };
            let fix = match &access.group {
                None => format!("run `chmod 600 {shown}`, or set `[store] group` to share it with one unix group"),
                Some(group) => format!("run `chmod 660 {shown}` (the store is shared with group {group} only)"),
            };
            found.push(format!("the store file {shown} has mode {mode:04o}: {who} may {what}; {fix}"));
        }
        if let (Some(group), Some(gid)) = (&access.group, gid)
            && meta.gid() != gid
        {
            found.push(format!(
                "the store file {shown} belongs to group id {}, not to {group} ([store] group); run `chgrp {group} {shown}`",
                meta.gid()
            ));
        }
    }
    found
}
