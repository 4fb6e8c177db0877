//! Reading a run file from disk: a file over the size limit is refused before it is read whole, then
//! the bytes go to [`crate::model::parse_run_bytes`].

use std::io::Read;
use std::path::Path;

use crate::model::{GovernedRun, RunFileError, parse_run_bytes};

/// Why a run file was not read into a run.
#[derive(Debug, thiserror::Error)]
pub enum RunFileReadError {
    #[error("{origin}: cannot read: {source}")]
    Unreadable { origin: String, source: std::io::Error },

    #[error(
        "{origin}: the file is {} ({size} bytes), larger than the limit for a run file, {} ({limit} bytes); \
         a run is normally a few KB: check that this is the run you meant, or raise `[runs] max_file_bytes` \
         in the config",
        human(*size), human(*limit)
    )]
    TooLarge { origin: String, size: u64, limit: u64 },

    #[error(transparent)]
    Invalid(#[from] RunFileError),
}

/// Read, parse and validate the run file at `path`, refusing one larger than `max_bytes`. `origin`
/// names it in errors.
pub fn read_run_file(path: &Path, origin: &str, max_bytes: u64) -> Result<GovernedRun, RunFileReadError> {
    let unreadable = |source| RunFileReadError::Unreadable { origin: origin.to_string(), source };
    let too_large = |size| RunFileReadError::TooLarge { origin: origin.to_string(), size, limit: max_bytes };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // The size from the open handle, so the file measured is the file read.
    let size = file.metadata().map_err(unreadable)?.len();
    if size > max_bytes {
        return Err(too_large(size));
    }
    // A file that grows while it is read, or a device, is cut one byte past the limit and refused.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(unreadable)?;
    let read = bytes.len() as u64;
    if read > max_bytes {
        return Err(too_large(read));
    }
    Ok(parse_run_bytes(&bytes, origin)?)
}

/// A byte count for people: `10.0 MiB`, `512 KiB`, `900 bytes`.
fn human(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    match bytes {
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(10 * 1024 * 1024), "10.0 MiB");
        assert_eq!(human(11_534_336), "11.0 MiB");
        assert_eq!(human(4096), "4 KiB");
        assert_eq!(human(900), "900 bytes");
    }
}
