//! The config hash: a digest over everything that decides a job's result (the cell, the steps and
//! environment as written, the toolchain's real versions, the source revision), so
//! `--skip-passed` can tell that a job would only repeat a pass.

use sha2::{Digest, Sha256};

use crate::config::MatrixFile;
use crate::matrix::Cell;
use crate::toolchain::ResolvedToolchain;

pub(super) struct ConfigHasher {
    /// The digest of everything the jobs of one file share, computed once.
    shared: Sha256,
}

impl ConfigHasher {
    /// `changes` is the digest of a dirty tree's uncommitted changes: a local edit is part of
    /// what decides a result, so it changes every hash (a clean tree hashes as it always did).
    pub(super) fn new(matrix: &MatrixFile, commit: &str, changes: Option<&str>) -> Self {
        let mut shared = Sha256::new();
        let mut field = |label: &str, value: &str| {
            shared.update(label.as_bytes());
            shared.update([0]);
            shared.update(value.as_bytes());
            shared.update([0]);
        };
        field("project", &matrix.project.name);
        field("source", &format!("{:?}", matrix.project.source));
        field("commit", commit);
        if let Some(changes) = changes {
            field("changes", changes);
        }
        for step in &matrix.steps {
            field("step", &step.name.value);
            field("run", &step.run.value);
            field("junit", step.junit.as_ref().map_or("", |j| j.value.as_str()));
            field("retries", &step.retries.to_string());
            field("timeout", &format!("{:?}", step.timeout));
            for (k, v) in &step.env {
                field(k, &v.value);
            }
        }
        for (k, v) in &matrix.env {
            field(k, &v.value);
        }
        field("cpus", &matrix.limits.cpus.to_string());
        // What a setup makes decides its cells' results (a file without setups hashes as before).
        for setup in matrix.pipeline.iter().filter(|s| s.kind == crate::config::PipelineKind::Setup) {
            field("setup", &setup.name.value);
            field("run", &setup.run.value);
            for (k, v) in &setup.env {
                field(k, &v.value);
            }
        }
        Self { shared }
    }

    pub(super) fn hash(&self, cell: &Cell, tools: &ResolvedToolchain) -> ConfigHash {
        let mut digest = self.shared.clone();
        for (k, v) in cell.iter() {
            digest.update(k.as_bytes());
            digest.update([0]);
            digest.update(v.as_str().as_bytes());
            digest.update([0]);
        }
        for part in [
            &tools.cc,
            &tools.cxx,
            &tools.compiler_version,
            tools.llvm_config.as_deref().unwrap_or(""),
            tools.llvm_version.as_deref().unwrap_or(""),
        ] {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        // The flag differs from the cell's standard only where it is a draft name (and only then
        // is it hashed, so every other cell keeps the hash it had).
        if let Some(flag) = tools.std_flag.as_deref().filter(|_| tools.std_is_draft) {
            digest.update(b"std_flag\0");
            digest.update(flag.as_bytes());
            digest.update([0]);
        }
        let bytes = digest.finalize();
        ConfigHash(u64::from_be_bytes(bytes[..8].try_into().expect("a SHA-256 digest has 32 bytes")))
    }
}

/// The first 64 bits of the SHA-256 config digest; shown as 16 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfigHash(pub u64);

impl ConfigHash {
    /// The 16 hex digits, without a formatter (a plan writes one per cell).
    fn digits(self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, byte) in self.0.to_be_bytes().iter().enumerate() {
            out[2 * i] = HEX[usize::from(byte >> 4)];
            out[2 * i + 1] = HEX[usize::from(byte & 0xf)];
        }
        out
    }
}

impl std::fmt::Display for ConfigHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::str::from_utf8(&self.digits()).expect("hex digits are ASCII"))
    }
}

impl serde::Serialize for ConfigHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(std::str::from_utf8(&self.digits()).expect("hex digits are ASCII"))
    }
}

#[cfg(test)]
mod tests {
    use super::ConfigHash;

    #[test]
    fn shown_as_sixteen_hex_digits() {
        assert_eq!(ConfigHash(0x0123_4567_89ab_cdef).to_string(), "0123456789abcdef");
        assert_eq!(ConfigHash(7).to_string(), format!("{:016x}", 7));
        assert_eq!(serde_json::to_string(&ConfigHash(u64::MAX)).unwrap(), "\"ffffffffffffffff\"");
    }
}
