//! `hashers`: how new passwords are hashed.

use serde::{Deserialize, Serialize};
use sesame_core::duration::GoDuration;
use sesame_core::password::Algorithm;

/// `hashers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Hashers {
    /// `hashers.algorithm`: `argon2` (default) or `bcrypt`.
    pub algorithm: Algorithm,
    /// `hashers.argon2`.
    pub argon2: Argon2Config,
    /// `hashers.bcrypt`.
    pub bcrypt: BcryptConfig,
}

impl Default for Hashers {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Argon2,
            argon2: Argon2Config::default(),
            bcrypt: BcryptConfig { cost: 12 },
        }
    }
}

/// `hashers.argon2`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Argon2Config {
    /// `memory`: bytes, or a size such as `19MiB`, `128MB`; default 19 MiB (19456 KiB).
    pub memory: ByteSize,
    /// `iterations`: default 2.
    pub iterations: u32,
    /// `parallelism`: default 1.
    pub parallelism: u32,
    /// `salt_length`: default 16.
    pub salt_length: usize,
    /// `key_length`: default 32.
    pub key_length: usize,
    /// `expected_duration`: accepted for compatibility; unknown users cost one real verification instead.
    pub expected_duration: Option<GoDuration>,
    /// `expected_deviation`: accepted for compatibility.
    pub expected_deviation: Option<GoDuration>,
    /// `dedicated_memory`: accepted for compatibility.
    pub dedicated_memory: Option<ByteSize>,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory: ByteSize(19456 * 1024),
            iterations: 2,
            parallelism: 1,
            salt_length: 16,
            key_length: 32,
            expected_duration: None,
            expected_deviation: None,
            dedicated_memory: None,
        }
    }
}

/// `hashers.bcrypt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BcryptConfig {
    /// `cost`: default 12, 4 to 31.
    pub cost: u32,
}

impl Default for BcryptConfig {
    fn default() -> Self {
        Self { cost: 12 }
    }
}

/// A size in bytes, written as a number or with a unit (`KB`, `MB`, `GB`, `KiB`, `MiB`, `GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `19MiB`, `128MB`, `1024`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid size {s:?} (expected e.g. 19MiB or 128MB)"))?;
        let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "KB" | "K" => 1000,
            "KIB" => 1024,
            "MB" | "M" => 1000 * 1000,
            "MIB" => 1024 * 1024,
            "GB" | "G" => 1000 * 1000 * 1000,
            "GIB" => 1024 * 1024 * 1024,
            _ => return Err(format!("invalid size {s:?} (expected e.g. 19MiB or 128MB)")),
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| format!("size {s:?} is too large"))
    }
}

impl Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => ByteSize::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}
