//! Checkpoints of the audit chain kept outside the database. Someone with write access to the
//! database could delete the newest entries and move the head back, or rewrite a stretch and
//! recompute every hash after it, and the chain alone would still verify. So every minute the
//! server writes each community's head (seq, hash, time) to a checkpoint file outside the
//! database, signed (HMAC-SHA256) with a key that is also kept only there; `yijia audit
//! checkpoint` writes one on demand and prints it, for an operator to send elsewhere too.
//! `yijia audit verify` then requires that the chain still holds, at each checkpoint's seq,
//! the entry with that hash: truncation and rewriting before the last checkpoint are found.
//!
//! The anchor folder holds `key` (32 random bytes, hex, readable by the owner only) and
//! `checkpoints` (one line per checkpoint: `community seq hash at_ms hmac`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{KeyInit, Mac};
use sqlx::Row;

use crate::clock::Millis;
use crate::db::Db;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How often the server writes checkpoints.
pub const EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the audit anchor at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the audit anchor's checkpoint line {line} is not signed by its key (tampered)")]
    BadSignature { line: usize },
    #[error("the audit anchor's key is unreadable")]
    BadKey,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One community's head as it was at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub community_id: i64,
    pub seq: i64,
    pub hash: String,
    pub at_ms: Millis,
}

impl Checkpoint {
    fn body(&self) -> String {
        format!(
            "{} {} {} {}",
            self.community_id, self.seq, self.hash, self.at_ms
        )
    }
}

/// The folder that holds the key and the checkpoints.
#[derive(Clone, Debug)]
pub struct Anchor {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

impl Anchor {
    /// Opens (and on first use creates) the anchor folder and its key.
    pub fn open(dir: &Path) -> Result<Anchor, Error> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let anchor = Anchor {
            dir: dir.to_owned(),
        };
        let key = anchor.key_path();
        if !key.exists() {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the operating system's random source works");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&key) {
                Ok(mut file) => file
                    .write_all(hex::encode(bytes).as_bytes())
                    .map_err(io(&key))?,
                // Another process made it first.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(io(&key)(error)),
            }
        }
        Ok(anchor)
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("key")
    }

    fn checkpoints_path(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    fn mac(&self) -> Result<HmacSha256, Error> {
        let path = self.key_path();
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let key = hex::decode(text.trim()).map_err(|_| Error::BadKey)?;
        HmacSha256::new_from_slice(&key).map_err(|_| Error::BadKey)
    }

    fn sign(&self, checkpoint: &Checkpoint) -> Result<String, Error> {
        let mut mac = self.mac()?;
        mac.update(checkpoint.body().as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// The newest checkpoint of each community, every line's signature checked.
    pub fn latest(&self) -> Result<BTreeMap<i64, Checkpoint>, Error> {
        let path = self.checkpoints_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(io(&path)(error)),
        };
        let mut latest = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let bad = || Error::BadSignature { line: index + 1 };
            let fields: Vec<&str> = line.split(' ').collect();
            let [community, seq, hash, at, signature] = fields[..] else {
                return Err(bad());
            };
            let checkpoint = Checkpoint {
                community_id: community.parse().map_err(|_| bad())?,
                seq: seq.parse().map_err(|_| bad())?,
                hash: hash.to_owned(),
                at_ms: at.parse().map_err(|_| bad())?,
            };
            let mut mac = self.mac()?;
            mac.update(checkpoint.body().as_bytes());
            let signature = hex::decode(signature).map_err(|_| bad())?;
            mac.verify_slice(&signature).map_err(|_| bad())?;
            latest.insert(checkpoint.community_id, checkpoint);
        }
        Ok(latest)
    }

    /// Writes a checkpoint of every community whose head moved since its last one; returns
    /// the lines written.
    pub async fn checkpoint(&self, db: &Db, now: Millis) -> Result<Vec<String>, Error> {
        let latest = self.latest()?;
        let heads =
            sqlx::query("SELECT community_id, seq, hash FROM audit_heads ORDER BY community_id")
                .fetch_all(&db.pool)
                .await?;
        let mut lines = Vec::new();
        for head in heads {
            let checkpoint = Checkpoint {
                community_id: head.try_get("community_id")?,
                seq: head.try_get("seq")?,
                hash: head.try_get("hash")?,
                at_ms: now,
            };
            let unchanged = latest
                .get(&checkpoint.community_id)
                .is_some_and(|c| c.seq == checkpoint.seq && c.hash == checkpoint.hash);
            if !unchanged {
                let signature = self.sign(&checkpoint)?;
                lines.push(format!("{} {signature}", checkpoint.body()));
            }
        }
        if !lines.is_empty() {
            let path = self.checkpoints_path();
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io(&path))?;
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            file.write_all(text.as_bytes()).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
        }
        Ok(lines)
    }
}

/// The server's checkpoint job: once at start, then every [`EVERY`].
pub async fn run(anchor: Anchor, db: Db) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        if let Err(error) = anchor.checkpoint(&db, crate::clock::now_ms()).await {
            tracing::error!(%error, "audit checkpoint failed");
        }
    }
}
