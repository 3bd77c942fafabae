//! Password hashing on a few dedicated threads. argon2id needs 19 MiB per hash; run on the
//! blocking pool, a burst of logins would start hundreds of threads, each keeping its own
//! allocator arena, and the server's memory would grow by gigabytes. Here a fixed number of
//! workers (one per core, at most four) take jobs from a bounded queue, and each hashes in one
//! block of memory it allocates once and keeps, so hashing memory is the workers' blocks and
//! nothing more; a login that cannot join the queue quickly is answered "busy" instead of
//! waiting without end.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting beyond the ones being hashed.
const QUEUE: usize = 64;
/// How long a login waits for a place in the queue before it is answered busy.
const LOGIN_WAIT: Duration = Duration::from_secs(1);

/// The longest password taken; longer ones are refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The most memory a stored hash may ask for (64 MiB); a larger one is not a hash of ours.
const MAX_BLOCKS: usize = 64 * 1024;

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Option<String>>,
    },
    Verify {
        password: String,
        hash: String,
        reply: oneshot::Sender<bool>,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue stayed full.
    Busy,
    /// The hashing failed (a worker stopped, or the input was not hashable).
    Failed,
}

fn pool() -> &'static mpsc::Sender<Job> {
    static POOL: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        for index in 0..workers {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || work(&receiver))
                .expect("a password worker thread starts");
        }
        sender
    })
}

fn work(receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        let job = {
            let mut receiver = receiver
                .lock()
                .expect("the password queue lock is never poisoned");
            receiver.blocking_recv()
        };
        match job {
            None => return,
            Some(Job::Hash { password, reply }) => {
                let _ = reply.send(memory.hash(&password));
            }
            Some(Job::Verify {
                password,
                hash,
                reply,
            }) => {
                let _ = reply.send(memory.verify(&password, &hash));
            }
        }
    }
}

/// A worker's argon2 memory, allocated once and reused by every hash.
#[derive(Default)]
struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks = vec![Block::default(); count];
        }
        &mut self.blocks[..count]
    }

    /// A new PHC string (argon2id, the crate's default cost) for a password.
    fn hash(&mut self, password: &str) -> Option<String> {
        let params = Params::default();
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).ok()?;
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                self.blocks(params.block_count()),
            )
            .ok()?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).ok()?,
            salt: Some(Salt::new(&salt).ok()?),
            hash: Some(Output::new(&out).ok()?),
        };
        Some(phc.to_string())
    }

    /// Whether a password matches a stored PHC string.
    fn verify(&mut self, password: &str, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::try_from(parsed.algorithm.as_str()),
            Params::try_from(&parsed),
            parsed.salt,
            parsed.hash,
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        if params.block_count() > MAX_BLOCKS {
            return false;
        }
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let blocks = self.blocks(params.block_count());
        if argon2
            .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, blocks)
            .is_err()
        {
            return false;
        }
        // Every byte compared, whatever the first difference.
        out.iter()
            .zip(expected.as_bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

/// Hashes a new password, waiting for a worker however long it takes.
pub async fn hash(password: String) -> Result<String, Refused> {
    let (reply, answer) = oneshot::channel();
    pool()
        .send(Job::Hash { password, reply })
        .await
        .map_err(|_| Refused::Failed)?;
    answer.await.ok().flatten().ok_or(Refused::Failed)
}

/// Checks a password against a stored hash for a login: busy if the queue stays full.
pub async fn verify(password: String, hash: String) -> Result<bool, Refused> {
    let (reply, answer) = oneshot::channel();
    let permit = tokio::time::timeout(LOGIN_WAIT, pool().reserve())
        .await
        .map_err(|_| Refused::Busy)?
        .map_err(|_| Refused::Failed)?;
    permit.send(Job::Verify {
        password,
        hash,
        reply,
    });
    answer.await.map_err(|_| Refused::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_reads_the_crates_own_hashes() {
        let mut memory = Memory::default();
        let hash = memory.hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(memory.verify("correct horse", &hash));
        assert!(!memory.verify("wrong horse", &hash));
        // A hash made by the argon2 crate's own PasswordHasher, as stored before.
        use argon2::password_hash::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"yijia-demo")
            .unwrap()
            .to_string();
        assert!(memory.verify("yijia-demo", &theirs));
        assert!(!memory.verify(
            "yijia-demo",
            "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }
}
