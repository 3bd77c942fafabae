//! Password hashing on a few dedicated threads. argon2id needs 19 MiB per hash; run on the
//! blocking pool, a burst of logins would start hundreds of threads, each keeping its own
//! allocator arena, and the server's memory would grow by gigabytes. Here a fixed number of
//! workers (one per core, at most four) take jobs from a bounded queue, so hashing memory is
//! bounded by the number of workers, and a login that cannot join the queue quickly is
//! answered "busy" instead of waiting without end.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting beyond the ones being hashed.
const QUEUE: usize = 64;
/// How long a login waits for a place in the queue before it is answered busy.
const LOGIN_WAIT: Duration = Duration::from_secs(1);

/// The longest password taken; longer ones are refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

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
                let hash = Argon2::default()
                    .hash_password(password.as_bytes())
                    .map(|hash| hash.to_string())
                    .ok();
                let _ = reply.send(hash);
            }
            Some(Job::Verify {
                password,
                hash,
                reply,
            }) => {
                let verified = PasswordHash::new(&hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                });
                let _ = reply.send(verified);
            }
        }
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
