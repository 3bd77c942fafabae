//! Files kept outside the database by their content: each is written once under the SHA-256
//! of its bytes (`ARCHIVE/ab/abcdef…`), never changed, and named in the database by that
//! digest. The same bytes stored twice are one file; a file is complete before its name is
//! (written beside it, flushed to the disk, then renamed), so a row naming it never points at
//! half a file. Files no row names (a transaction that failed after its write) are harmless
//! and take no other file's place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
pub struct Archive {
    root: Arc<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("archive: {0}")]
    Io(#[from] std::io::Error),
    #[error("archive: {0:?} is not a SHA-256 digest")]
    BadDigest(String),
    #[error("archive: the file {0} does not hold the bytes it is named by")]
    Damaged(String),
    #[error("archive: the file work stopped")]
    Stopped,
}

/// The SHA-256 of `bytes` in lower-case hex, the name they are archived under.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Archive {
    /// The archive in `dir`, created when missing.
    pub fn open(dir: &Path) -> Result<Archive, Error> {
        std::fs::create_dir_all(dir)?;
        Ok(Archive {
            root: Arc::new(dir.to_path_buf()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, digest: &str) -> Result<PathBuf, Error> {
        let valid = digest.len() == 64
            && digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(Error::BadDigest(digest.to_owned()));
        }
        Ok(self.root.join(&digest[..2]).join(digest))
    }

    /// Writes `bytes` (unless held already) and gives their digest; blocking.
    pub fn put_blocking(&self, bytes: &[u8]) -> Result<String, Error> {
        let digest = digest(bytes);
        let path = self.path(&digest)?;
        if path.exists() {
            return Ok(digest);
        }
        let dir = path.parent().expect("an archive path has a folder");
        std::fs::create_dir_all(dir)?;
        let mut temporary = tempfile_in(dir)?;
        temporary.1.write_all(bytes)?;
        temporary.1.sync_data()?;
        std::fs::rename(&temporary.0, &path)?;
        Ok(digest)
    }

    /// Reads the file named `digest`, checking that it holds those bytes; blocking.
    pub fn get_blocking(&self, digest: &str) -> Result<Vec<u8>, Error> {
        let bytes = std::fs::read(self.path(digest)?)?;
        if self::digest(&bytes) != digest {
            return Err(Error::Damaged(digest.to_owned()));
        }
        Ok(bytes)
    }

    /// [`Archive::put_blocking`] on the blocking pool.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, Error> {
        let archive = self.clone();
        tokio::task::spawn_blocking(move || archive.put_blocking(&bytes))
            .await
            .map_err(|_| Error::Stopped)?
    }

    /// [`Archive::get_blocking`] on the blocking pool.
    pub async fn get(&self, digest: &str) -> Result<Vec<u8>, Error> {
        let archive = self.clone();
        let digest = digest.to_owned();
        tokio::task::spawn_blocking(move || archive.get_blocking(&digest))
            .await
            .map_err(|_| Error::Stopped)?
    }
}

/// A new file in `dir` with a name of its own, for writing before it is renamed.
fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File), Error> {
    loop {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("the operating system's random source works");
        let path = dir.join(format!(".incoming-{}", hex::encode(random)));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_are_one_file_and_read_back_checked() {
        let dir = std::env::temp_dir().join(format!("yijia-archive-{}", std::process::id()));
        let archive = Archive::open(&dir).unwrap();
        let first = archive.put_blocking(b"DICM one").unwrap();
        let again = archive.put_blocking(b"DICM one").unwrap();
        assert_eq!(first, again);
        assert_eq!(first, digest(b"DICM one"));
        assert_eq!(archive.get_blocking(&first).unwrap(), b"DICM one");
        let files = std::fs::read_dir(dir.join(&first[..2])).unwrap().count();
        assert_eq!(files, 1, "one file, no leftovers");

        std::fs::write(archive.path(&first).unwrap(), b"DICM two").unwrap();
        assert!(matches!(
            archive.get_blocking(&first),
            Err(Error::Damaged(_))
        ));
        assert!(matches!(
            archive.get_blocking("../../etc/passwd"),
            Err(Error::BadDigest(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
