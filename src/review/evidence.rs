//! Evidence bundles: everything about one run, in files an auditor can check offline.
//!
//! A bundle is a directory holding `run.json`, `approvals.json`, `exchanges.json` (requests and
//! responses, secrets already masked by the connector), `audit.json` (the run's audit events),
//! `chain.json` (the segment of the audit chain around them, closed by a signed checkpoint) and
//! `manifest.json`. The manifest lists the SHA-256 and size of every other file and a digest over that
//! list; it is written in one canonical form, so verification re-writes it from its parsed content and
//! compares bytes. The manifest is not keyed, so it only catches accidents: what makes a bundle proof
//! is the checkpoint's signature over the chain, which every other file is checked against
//! (`review::evidence_check`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sign::AllowedSigners;

/// The manifest's format tag.
pub const BUNDLE_FORMAT: &str = "signoff.evidence/v2";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The file holding the run's audit events.
pub const AUDIT_FILE: &str = "audit.json";
/// The file holding the chain segment a signed checkpoint closes.
pub const CHAIN_FILE: &str = "chain.json";
/// The files every bundle holds besides the manifest, in the order they are written.
pub const BUNDLE_FILES: [&str; 5] = ["run.json", "approvals.json", "exchanges.json", AUDIT_FILE, CHAIN_FILE];

/// One file of a bundle, before it is written.
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// A listed file: its name, SHA-256 (hex) and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub run_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub files: Vec<ManifestEntry>,
    /// SHA-256 over the format, run id, creation time, author and every entry.
    pub bundle_sha256: String,
}

impl Manifest {
    fn compute_digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [self.format.as_str(), self.run_id.as_str(), &self.created_at.to_rfc3339(), &self.created_by] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        for entry in &self.files {
            h.update((entry.name.len() as u64).to_be_bytes());
            h.update(entry.name.as_bytes());
            h.update(entry.sha256.as_bytes());
            h.update(entry.bytes.to_be_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The one byte form a manifest is written in.
    fn to_bytes(&self) -> Result<Vec<u8>, EvidenceError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| EvidenceError::Encode(e.to_string()))?;
        text.push('\n');
        Ok(text.into_bytes())
    }
}

/// What can go wrong writing or checking a bundle.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("cannot write the evidence bundle at {path}: {source}; check that the directory is writable")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} already exists and is not empty; give `--out` a new or empty directory")]
    NotEmpty { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot encode the bundle: {0}")]
    Encode(String),
    #[error("the bundle does not verify: {0}")]
    Invalid(String),
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Write `files` and their manifest into `dir` (created if missing; must be empty).
pub fn write_bundle(
    dir: &Path,
    run_id: &str,
    created_by: &str,
    files: &[BundleFile],
) -> Result<Manifest, EvidenceError> {
    let write_err = |path: &Path, source| EvidenceError::Write { path: path.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    if std::fs::read_dir(dir).map_err(|e| write_err(dir, e))?.next().is_some() {
        return Err(EvidenceError::NotEmpty { path: dir.to_path_buf() });
    }
    let mut manifest = Manifest {
        format: BUNDLE_FORMAT.into(),
        run_id: run_id.into(),
        created_at: Utc::now(),
        created_by: created_by.into(),
        files: Vec::new(),
        bundle_sha256: String::new(),
    };
    for file in files {
        let path = dir.join(file.name);
        std::fs::write(&path, &file.bytes).map_err(|e| write_err(&path, e))?;
        manifest.files.push(ManifestEntry {
            name: file.name.into(),
            sha256: sha256_hex(&file.bytes),
            bytes: file.bytes.len() as u64,
        });
    }
    manifest.bundle_sha256 = manifest.compute_digest();
    let path = dir.join(MANIFEST);
    std::fs::write(&path, manifest.to_bytes()?).map_err(|e| write_err(&path, e))?;
    Ok(manifest)
}

/// Check a bundle offline: its manifest (below), then that every file agrees with the chain segment
/// and the segment with its signed checkpoint, whose key `allowed` must list.
pub fn verify_bundle(dir: &Path, allowed: &AllowedSigners) -> Result<BundleVerified, EvidenceError> {
    let manifest = verify_manifest(dir)?;
    let proof = super::evidence_check::check(dir, &manifest, allowed)?;
    Ok(BundleVerified { manifest, proof })
}

/// A bundle that verified: its manifest and what its checkpoint proves.
#[derive(Debug, Clone)]
pub struct BundleVerified {
    pub manifest: Manifest,
    pub proof: super::evidence_check::Proven,
}

/// Check the manifest alone: its own form and digest, every listed file's hash and size, no unlisted
/// file. It catches an altered byte, not a forger, who can recompute it.
pub fn verify_manifest(dir: &Path) -> Result<Manifest, EvidenceError> {
    let invalid = |m: String| EvidenceError::Invalid(m);
    let read = |path: PathBuf| std::fs::read(&path).map_err(|source| EvidenceError::Read { path, source });
    let manifest_bytes = read(dir.join(MANIFEST))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| invalid(format!("{MANIFEST} is not a signoff evidence manifest: {e}")))?;
    if manifest.format != BUNDLE_FORMAT {
        return Err(invalid(format!("{MANIFEST} has format '{}', expected '{BUNDLE_FORMAT}'", manifest.format)));
    }
    if manifest.to_bytes()? != manifest_bytes {
        return Err(invalid(format!("{MANIFEST} was edited: its bytes are not the form signoff writes")));
    }
    if manifest.compute_digest() != manifest.bundle_sha256 {
        return Err(invalid(format!("{MANIFEST}: bundle_sha256 does not match the listed files")));
    }
    for entry in &manifest.files {
        if entry.name.contains(['/', '\\']) || entry.name == MANIFEST || entry.name.starts_with('.') {
            return Err(invalid(format!("{MANIFEST} lists an unexpected file name '{}'", entry.name)));
        }
        let bytes = read(dir.join(&entry.name))?;
        if bytes.len() as u64 != entry.bytes || sha256_hex(&bytes) != entry.sha256 {
            return Err(invalid(format!("{} was altered: its SHA-256 or size differs from the manifest", entry.name)));
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|source| EvidenceError::Read { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| EvidenceError::Read { path: dir.to_path_buf(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != MANIFEST && !manifest.files.iter().any(|f| f.name == name) {
            return Err(invalid(format!("{name} is in the bundle but not in the manifest")));
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<BundleFile> {
        vec![
            BundleFile { name: "run.json", bytes: br#"{"id":"RUN-2026-000412"}"#.to_vec() },
            BundleFile { name: "approvals.json", bytes: br#"[{"approver":"julia@contoso.com"}]"#.to_vec() },
        ]
    }

    #[test]
    fn a_written_bundle_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bundle");
        write_bundle(&out, "RUN-2026-000412", "julia@contoso.com", &files()).unwrap();
        let manifest = verify_manifest(&out).unwrap();
        assert_eq!(manifest.files.len(), 2);
    }

    #[test]
    fn every_flipped_byte_of_every_file_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bundle");
        write_bundle(&out, "RUN-2026-000412", "julia@contoso.com", &files()).unwrap();
        for name in ["run.json", "approvals.json", MANIFEST] {
            let path = out.join(name);
            let original = std::fs::read(&path).unwrap();
            for i in 0..original.len() {
                let mut altered = original.clone();
                altered[i] ^= 0x01;
                std::fs::write(&path, &altered).unwrap();
                assert!(verify_manifest(&out).is_err(), "flipping byte {i} of {name} went unnoticed");
            }
            std::fs::write(&path, &original).unwrap();
        }
        verify_manifest(&out).unwrap();
    }

    #[test]
    fn an_extra_file_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bundle");
        write_bundle(&out, "RUN-2026-000412", "julia@contoso.com", &files()).unwrap();
        std::fs::write(out.join("note.txt"), "added later").unwrap();
        let err = verify_manifest(&out).unwrap_err();
        assert!(err.to_string().contains("note.txt"), "{err}");
    }

    #[test]
    fn a_bundle_is_not_written_over_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
        assert!(matches!(write_bundle(dir.path(), "R", "a", &files()), Err(EvidenceError::NotEmpty { .. })));
    }
}
