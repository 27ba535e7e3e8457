//! Password hashing. New hashes are argon2id; HIL's `$6$` sha512-crypt hashes still verify, so a
//! user table exported from HIL can be imported as it is.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::Argon2;

/// Hashes a new password with argon2id (PHC string format). The server hashes on `Checker`'s
/// threads; this is for tests.
#[cfg(test)]
pub fn hash(password: &str) -> Result<String, String> {
    hash_with(password, &mut Vec::new())
}

/// The first `blocks` of `memory`, grown to that size if it is smaller.
fn working_area(memory: &mut Vec<argon2::Block>, blocks: usize) -> &mut [argon2::Block] {
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    &mut memory[..blocks]
}

/// `hash`, with `memory` as argon2's working area (see `verify_with`).
fn hash_with(password: &str, memory: &mut Vec<argon2::Block>) -> Result<String, String> {
    let failed = |e: argon2::password_hash::Error| format!("hashing failed: {e}");
    let params = argon2::Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
    let mut output = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    let area = working_area(memory, params.block_count());
    Argon2::default()
        .hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut output, area)
        .map_err(|e| format!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: argon2::password_hash::ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(argon2::password_hash::Output::new(&output).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Verifies a password against an argon2 or sha512-crypt hash. Unknown formats never verify.
/// The server verifies on `Checker`'s threads; this is for tests.
#[cfg(test)]
pub fn verify(password: &str, stored: &str) -> bool {
    verify_with(password, stored, &mut Vec::new())
}

/// argon2 memory a stored hash may ask for, in 1 KiB blocks (256 MiB; ours take 19 MiB).
/// A hash asking for more never verifies rather than letting one row exhaust memory.
const MAX_ARGON2_BLOCKS: usize = 256 * 1024;

/// `verify`, with `memory` as argon2's working area: grown to the largest hash seen and then
/// reused, so a thread that checks passwords all day holds one buffer instead of asking the
/// allocator for ~19 MiB per check (which glibc keeps, per thread, long after).
fn verify_with(password: &str, stored: &str, memory: &mut Vec<argon2::Block>) -> bool {
    if stored.starts_with("$6$") {
        return sha_crypt::sha512_check(password, stored).is_ok();
    }
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        argon2::Algorithm::try_from(hash.algorithm),
        argon2::Params::try_from(&hash),
        hash.salt,
        hash.hash,
    ) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    if blocks > MAX_ARGON2_BLOCKS {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut computed = vec![0u8; expected.len()];
    let hasher = Argon2::new(algorithm, version, params);
    hasher
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut computed,
            working_area(memory, blocks),
        )
        .is_ok()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            computed.as_slice(),
            expected.as_bytes(),
        ))
}

/// A few threads of their own that check and hash passwords, one at a time each. An argon2
/// hash takes ~19 MiB and a CPU for tens of milliseconds; with a fixed set of threads, a login
/// flood queues instead of growing memory and starving the API's threads.
pub struct Checker {
    jobs: tokio::sync::mpsc::Sender<Job>,
}

enum Job {
    Verify {
        password: String,
        stored: String,
        answer: tokio::sync::oneshot::Sender<bool>,
    },
    Hash {
        password: String,
        answer: tokio::sync::oneshot::Sender<Result<String, String>>,
    },
}

impl Job {
    /// Does the job with `memory` as argon2's working area and sends the answer (to nobody,
    /// if the caller has gone).
    fn run(self, memory: &mut Vec<argon2::Block>) {
        match self {
            Job::Verify {
                password,
                stored,
                answer,
            } => {
                let _ = answer.send(verify_with(&password, &stored, memory));
            }
            Job::Hash { password, answer } => {
                let _ = answer.send(hash_with(&password, memory));
            }
        }
    }
}

/// Checks that may wait for a thread, per thread.
const QUEUE_PER_THREAD: usize = 16;

/// The check queue is full for longer than the caller may wait.
#[derive(Debug)]
pub struct Busy;

impl Checker {
    /// `threads` checking threads (0: one per CPU, at most 4). They end with the checker.
    pub fn new(threads: usize) -> Checker {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            n => n,
        };
        let (jobs, queue) = tokio::sync::mpsc::channel::<Job>(threads * QUEUE_PER_THREAD);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hil-password-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let next = queue
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .blocking_recv();
                        let Some(job) = next else { return };
                        job.run(&mut memory);
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start a password-checking thread: {e}");
            }
        }
        Checker { jobs }
    }

    /// Whether `password` matches `stored`, waiting at most `patience` for a free slot.
    pub async fn verify(
        &self,
        password: &str,
        stored: &str,
        patience: std::time::Duration,
    ) -> Result<bool, Busy> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Job::Verify {
            password: password.to_string(),
            stored: stored.to_string(),
            answer,
        };
        self.submit(job, patience).await?;
        answered.await.map_err(|_| Busy)
    }

    /// A new argon2id hash of `password`, waiting at most `patience` for a free slot.
    pub async fn hash(
        &self,
        password: &str,
        patience: std::time::Duration,
    ) -> Result<Result<String, String>, Busy> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Job::Hash {
            password: password.to_string(),
            answer,
        };
        self.submit(job, patience).await?;
        answered.await.map_err(|_| Busy)
    }

    async fn submit(&self, job: Job, patience: std::time::Duration) -> Result<(), Busy> {
        match tokio::time::timeout(patience, self.jobs.send(job)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[test]
    fn argon2_round_trip() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong", &h));
    }

    #[test]
    fn hil_sha512_crypt_hashes_verify() {
        // Made by passlib's sha512_crypt (HIL's scheme) with rounds=5000 for the password "pass".
        let params = sha_crypt::Sha512Params::new(5000).unwrap();
        let h = sha_crypt::sha512_simple("pass", &params).unwrap();
        assert!(h.starts_with("$6$"));
        assert!(verify("pass", &h));
        assert!(!verify("pas", &h));
    }

    #[tokio::test]
    async fn the_checker_answers_like_verify_and_waits_its_turn() {
        let h = hash("pw").unwrap();
        let checker = std::sync::Arc::new(Checker::new(1));
        let patience = std::time::Duration::from_secs(30);
        let checks: Vec<_> = (0..4)
            .map(|i| {
                let (checker, h) = (checker.clone(), h.clone());
                let pw = if i % 2 == 0 { "pw" } else { "nope" };
                tokio::spawn(async move { checker.verify(pw, &h, patience).await.unwrap() })
            })
            .collect();
        let answers: Vec<bool> = futures::future::join_all(checks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(answers, [true, false, true, false]);
        let made = checker.hash("new-pw", patience).await.unwrap().unwrap();
        assert!(made.starts_with("$argon2id$") && made != h);
        assert!(checker.verify("new-pw", &made, patience).await.unwrap());
        assert!(!checker.verify("pw", &made, patience).await.unwrap());
    }

    #[test]
    fn other_argon2_variants_and_parameters_verify() {
        let params = argon2::Params::new(4096, 3, 2, None).unwrap();
        for algorithm in [argon2::Algorithm::Argon2i, argon2::Algorithm::Argon2id] {
            let salt = SaltString::generate(&mut OsRng);
            let h = Argon2::new(algorithm, argon2::Version::V0x13, params.clone())
                .hash_password(b"pw", &salt)
                .unwrap()
                .to_string();
            assert!(verify("pw", &h), "{h}");
            assert!(!verify("pW", &h), "{h}");
        }
    }

    #[test]
    fn garbage_hashes_do_not_verify() {
        assert!(!verify("x", ""));
        assert!(!verify("x", "$6$broken"));
        assert!(!verify("x", "plaintext"));
    }
}
