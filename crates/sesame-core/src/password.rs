//! Passwords: hashing (argon2id by default, bcrypt on request), verification of imported bcrypt /
//! argon2 hashes, transparent re-hashing, and the registration policy. Hashing is CPU-bound, so it
//! runs on threads of its own, one per core, below the runtime's priority, so logins never starve
//! whoami.

use crate::error::CoreError;
use argon2::Params;
use argon2::password_hash::{PasswordHash, SaltString};
use serde::{Deserialize, Serialize};
use sesame_types::UiText;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

/// A password received from a client. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// `hashers.algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// argon2id.
    #[default]
    Argon2,
    /// bcrypt.
    Bcrypt,
}

/// Parameters for new hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HasherConfig {
    /// Algorithm for new hashes.
    pub algorithm: Algorithm,
    /// argon2 memory in KiB.
    pub argon2_memory_kib: u32,
    /// argon2 iterations.
    pub argon2_iterations: u32,
    /// argon2 lanes.
    pub argon2_parallelism: u32,
    /// argon2 salt length in bytes.
    pub argon2_salt_length: usize,
    /// argon2 output length in bytes.
    pub argon2_key_length: usize,
    /// bcrypt cost.
    pub bcrypt_cost: u32,
}

impl Default for HasherConfig {
    fn default() -> Self {
        // OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
        Self {
            algorithm: Algorithm::Argon2,
            argon2_memory_kib: 19456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            argon2_salt_length: 16,
            argon2_key_length: 32,
            bcrypt_cost: 12,
        }
    }
}

/// The hasher shared by all services.
#[derive(Clone)]
pub struct Hasher {
    config: HasherConfig,
    params: Params,
    pool: Arc<Pool>,
    dummy_hash: Arc<str>,
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, one per core; they end when the last `Hasher` clone is dropped.
///
/// Not tokio's blocking pool: its threads come and go, and each hashing thread keeps its argon2
/// work area (19 MiB by default, see `argon2_area`), so a fixed set of threads bounds the memory
/// hashing holds to one area per core. And these threads run at a lower priority (Linux `nice` 10, a per-thread setting there): when
/// the cores are busy the scheduler gives the runtime's threads about nine times their share, so
/// a storm of logins slows logins, not whoami. With idle cores logins hash at full speed.
struct Pool {
    jobs: Sender<Job>,
    threads: usize,
    load: Arc<Load>,
}

/// Jobs waiting for a hashing thread and jobs being run, for [`Hasher::queue`]. A job is counted
/// waiting before it is sent, so a thread that takes it at once never counts below zero.
#[derive(Default)]
struct Load {
    waiting: AtomicU64,
    running: AtomicU64,
}

/// How busy the hashing threads are (see [`Hasher::queue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashingQueue {
    /// Hashes and verifications waiting for a thread.
    pub waiting: u64,
    /// Hashes and verifications being computed.
    pub running: u64,
    /// The hashing threads (one per core).
    pub threads: u64,
}

impl Pool {
    fn start(threads: usize) -> Result<Self, String> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let load = Arc::new(Load::default());
        let threads = threads.max(1);
        for _ in 0..threads {
            let (queue, load) = (queue.clone(), load.clone());
            std::thread::Builder::new()
                .name("sesame-hasher".into())
                .spawn(move || Self::work(&queue, &load))
                .map_err(|e| format!("cannot start a hashing thread: {e}"))?;
        }
        Ok(Self {
            jobs,
            threads,
            load,
        })
    }

    /// Queues a job; `Err` when the threads are gone.
    fn submit(&self, job: Job) -> Result<(), ()> {
        self.load.waiting.fetch_add(1, Ordering::Relaxed);
        self.jobs.send(job).map_err(|_| {
            self.load.waiting.fetch_sub(1, Ordering::Relaxed);
        })
    }

    fn work(queue: &Mutex<Receiver<Job>>, load: &Load) {
        lower_priority();
        loop {
            let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
            let Ok(job) = job else { return };
            load.waiting.fetch_sub(1, Ordering::Relaxed);
            load.running.fetch_add(1, Ordering::Relaxed);
            // A panicking job only fails its own request (its answer channel is dropped).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            load.running.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // `setpriority(PRIO_PROCESS, 0, 10)`: on Linux the calling thread only. A refusal is harmless.
    let _ = rustix::process::setpriority_process(None, 10);
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {
    // Elsewhere the nice value belongs to the whole process: the threads keep the normal priority.
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("config", &self.config)
            .finish()
    }
}

impl Hasher {
    /// Validates the parameters and prepares the hash used to equalise timing for unknown users.
    pub fn new(config: HasherConfig) -> Result<Self, String> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            Some(config.argon2_key_length),
        )
        .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        if !(4..=31).contains(&config.bcrypt_cost) {
            return Err(format!(
                "bcrypt cost {} is outside 4..=31",
                config.bcrypt_cost
            ));
        }
        if !(8..=64).contains(&config.argon2_salt_length) {
            return Err(format!(
                "argon2 salt length {} is outside 8..=64",
                config.argon2_salt_length
            ));
        }
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut hasher = Self {
            config,
            params,
            pool: Arc::new(Pool::start(threads)?),
            dummy_hash: Arc::from(""),
        };
        // On a hashing thread, whose work area is kept anyway, rather than the caller's.
        let (answer, answered) = std::sync::mpsc::channel();
        let this = hasher.clone();
        hasher
            .pool
            .submit(Box::new(move || {
                let dummy = crate::token::SessionToken::generate();
                let _ = answer.send(this.hash_blocking(dummy.expose()));
            }))
            .map_err(|()| "the hashing threads are gone".to_owned())?;
        let dummy = answered
            .recv()
            .map_err(|_| "the hashing threads are gone".to_owned())??;
        hasher.dummy_hash = Arc::from(dummy);
        Ok(hasher)
    }

    /// The configured algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.config.algorithm
    }

    /// How many hashes and verifications wait for a hashing thread and how many run now.
    pub fn queue(&self) -> HashingQueue {
        let load = &self.pool.load;
        HashingQueue {
            waiting: load.waiting.load(Ordering::Relaxed),
            running: load.running.load(Ordering::Relaxed),
            threads: self.pool.threads as u64,
        }
    }

    fn hash_blocking(&self, password: &str) -> Result<String, String> {
        match self.config.algorithm {
            Algorithm::Argon2 => {
                let mut salt = vec![0u8; self.config.argon2_salt_length];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
                let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
                crate::argon2_area::hash(password.as_bytes(), salt.as_salt(), &self.params)
            }
            Algorithm::Bcrypt => {
                bcrypt::hash(password, self.config.bcrypt_cost).map_err(|e| e.to_string())
            }
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Hasher) -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let this = self.clone();
        self.pool
            .submit(Box::new(move || {
                let _ = answer.send(f(&this));
            }))
            .map_err(|()| CoreError::Internal("the hashing threads are gone".into()))?;
        answered
            .await
            .map_err(|_| CoreError::Internal("a hashing job failed".into()))
    }

    /// Hashes a password with the configured algorithm.
    pub async fn hash(&self, password: &Password) -> Result<String, CoreError> {
        let pw = password.clone();
        self.blocking(move |h| h.hash_blocking(pw.expose()))
            .await?
            .map_err(CoreError::Internal)
    }

    /// Verifies a password against a stored bcrypt or argon2 hash.
    pub async fn verify(&self, password: &Password, hash: &str) -> Result<bool, CoreError> {
        let (pw, hash) = (password.clone(), hash.to_owned());
        self.blocking(move |h| verify_blocking(pw.expose(), &hash, &h.params))
            .await
    }

    /// Spends the time of one verification, so unknown identifiers cost as much as wrong passwords.
    pub async fn verify_dummy(&self, password: &Password) -> Result<(), CoreError> {
        let hash = self.dummy_hash.to_string();
        self.verify(password, &hash).await.map(|_| ())
    }

    /// Whether a stored hash should be replaced by one with the configured algorithm and parameters.
    pub fn needs_rehash(&self, hash: &str) -> bool {
        match self.config.algorithm {
            Algorithm::Argon2 => match PasswordHash::new(hash) {
                Ok(parsed) if parsed.algorithm.as_str() == "argon2id" => Params::try_from(&parsed)
                    .map_or(true, |p| {
                        p.m_cost() != self.params.m_cost()
                            || p.t_cost() != self.params.t_cost()
                            || p.p_cost() != self.params.p_cost()
                    }),
                _ => true,
            },
            Algorithm::Bcrypt => bcrypt_cost(hash) != Some(self.config.bcrypt_cost),
        }
    }
}

fn bcrypt_cost(hash: &str) -> Option<u32> {
    let rest = hash.strip_prefix('$')?;
    let (variant, rest) = rest.split_once('$')?;
    if !matches!(variant, "2" | "2a" | "2b" | "2y" | "2x") {
        return None;
    }
    rest.get(..2)?.parse().ok()
}

fn verify_blocking(password: &str, hash: &str, configured: &Params) -> bool {
    if hash.starts_with("$argon2") {
        return PasswordHash::new(hash).is_ok_and(|parsed| {
            crate::argon2_area::verify(password.as_bytes(), &parsed, configured)
        });
    }
    if bcrypt_cost(hash).is_some() {
        // The bcrypt crate does not know the oldest `$2$` prefix; it is the same algorithm as `$2a$`.
        let normalised = match hash.strip_prefix("$2$") {
            Some(rest) => format!("$2a${rest}"),
            None => hash.to_owned(),
        };
        return bcrypt::verify(password, &normalised).unwrap_or(false);
    }
    false
}

/// Checks an imported hash: bcrypt or argon2 (i/id) PHC strings with sane costs.
pub fn check_imported_hash(hash: &str) -> Result<(), CoreError> {
    let unknown =
        || CoreError::bad_request("The imported password does not match any known hash format.");
    if let Some(cost) = bcrypt_cost(hash) {
        if hash.len() != 60 && !hash.starts_with("$2$") {
            return Err(unknown());
        }
        if !(4..=31).contains(&cost) {
            return Err(CoreError::bad_request(format!(
                "The bcrypt cost {cost} is out of bounds."
            )));
        }
        return Ok(());
    }
    if hash.starts_with("$argon2id$") || hash.starts_with("$argon2i$") {
        let parsed = PasswordHash::new(hash).map_err(|_| unknown())?;
        // A PHC string without salt or hash output parses, but no password can ever match it.
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(unknown());
        }
        let params = Params::try_from(&parsed).map_err(|e| {
            CoreError::bad_request(format!(
                "The argon2 parameters of the imported hash are invalid: {e}"
            ))
        })?;
        if params.m_cost() > 4 * 1024 * 1024 || params.t_cost() > 64 || params.p_cost() > 64 {
            return Err(CoreError::bad_request(
                "The argon2 parameters of the imported hash are out of bounds.",
            ));
        }
        return Ok(());
    }
    Err(unknown())
}

/// `selfservice.methods.password.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in bytes.
    pub min_length: usize,
    /// Maximum length in bytes (72 with bcrypt, which ignores the rest).
    pub max_length: Option<usize>,
    /// Reject passwords too similar to an identifier.
    pub identifier_similarity_check: bool,
}

impl PasswordPolicy {
    /// The UI message for the first rule the password breaks, if any.
    pub fn check(&self, password: &Password, identifiers: &[String]) -> Result<(), Box<UiText>> {
        let pw = password.expose();
        if pw.len() < self.min_length {
            return Err(Box::new(crate::messages::password_too_short(
                self.min_length,
                pw.len(),
            )));
        }
        if let Some(max) = self.max_length.filter(|max| pw.len() > *max) {
            return Err(Box::new(crate::messages::password_too_long(max, pw.len())));
        }
        if self.identifier_similarity_check {
            let pw = pw.to_lowercase();
            for id in identifiers.iter().filter(|i| !i.is_empty()) {
                let id = id.to_lowercase();
                let lcs =
                    longest_common_substring(&id, &pw) as f64 / pw.chars().count().max(1) as f64;
                if levenshtein(&id, &pw) < 5 || lcs > 0.5 {
                    return Err(Box::new(crate::messages::password_too_similar()));
                }
            }
        }
        Ok(())
    }
}

// Two textbook dynamic programmes over short strings; not worth a dependency.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn longest_common_substring(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev = vec![0usize; b.len() + 1];
    let mut best = 0;
    for ca in a.chars() {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            if ca == *cb {
                cur[j + 1] = prev[j] + 1;
                best = best.max(cur[j + 1]);
            }
        }
        prev = cur;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> HasherConfig {
        HasherConfig {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            bcrypt_cost: 4,
            ..HasherConfig::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_queue_shows_jobs_waiting_for_a_thread_and_jobs_running() {
        // A thread counts its job done just after the job answered: wait for the count.
        async fn until(h: &Hasher, want: HashingQueue) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while h.queue() != want {
                assert!(std::time::Instant::now() < deadline, "{:?}", h.queue());
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
        let h = Hasher::new(fast()).unwrap();
        let threads = h.queue().threads;
        assert!(threads >= 1);
        let idle = HashingQueue {
            waiting: 0,
            running: 0,
            threads,
        };
        until(&h, idle).await;
        // Every job waits until the test opens the gate.
        let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let jobs: Vec<_> = (0..threads + 2)
            .map(|_| {
                let (h, gate) = (h.clone(), gate.clone());
                tokio::spawn(async move {
                    h.blocking(move |_| {
                        let (open, opened) = &*gate;
                        let mut open = open.lock().unwrap();
                        while !*open {
                            open = opened.wait(open).unwrap();
                        }
                    })
                    .await
                })
            })
            .collect();
        let busy = HashingQueue {
            waiting: 2,
            running: threads,
            threads,
        };
        until(&h, busy).await;
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        until(&h, idle).await;
    }

    #[tokio::test]
    async fn hashes_verify_and_imports_are_understood() {
        let h = Hasher::new(fast()).unwrap();
        let pw = Password::new("correct horse battery");
        let hash = h.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(h.verify(&pw, &hash).await.unwrap());
        assert!(!h.verify(&Password::new("wrong"), &hash).await.unwrap());
        assert!(!h.needs_rehash(&hash));

        let bc = bcrypt::hash("correct horse battery", 4).unwrap();
        check_imported_hash(&bc).unwrap();
        assert!(h.verify(&pw, &bc).await.unwrap());
        assert!(h.needs_rehash(&bc));
        assert!(check_imported_hash("$md5$abc").is_err());
        assert!(check_imported_hash("$argon2id$garbage").is_err());
    }

    #[test]
    fn policy_rejects_short_and_similar_passwords() {
        let p = PasswordPolicy {
            min_length: 8,
            max_length: None,
            identifier_similarity_check: true,
        };
        let ids = vec!["alice@example.com".to_owned()];
        assert_eq!(
            p.check(&Password::new("short"), &ids).unwrap_err().id,
            4000032
        );
        assert_eq!(
            p.check(&Password::new("alice@example.com1"), &ids)
                .unwrap_err()
                .id,
            4000031
        );
        assert!(p.check(&Password::new("Tr0ub4dor&3-horse"), &ids).is_ok());
    }
}
