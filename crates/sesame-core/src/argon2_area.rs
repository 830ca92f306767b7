//! Argon2 over a work area kept by each hashing thread, instead of one allocated per hash.
//!
//! The argon2 crate allocates its work area (19 MiB with the default parameters) for every hash
//! and frees it afterwards. glibc serves the first such allocation from `mmap`, but freeing it
//! raises its dynamic mmap threshold, so every later one comes from a malloc arena, which keeps the
//! freed area: a handful of registrations left the process hundreds of MiB larger for good. Here
//! each hashing thread keeps one area the size the configured parameters need, allocated once;
//! hashes with other parameters (imported hashes, before their re-hash) get an area of their own.
//! The output and its PHC string are the crate's own (`hash_password` and `verify_password` are
//! these same steps with a fresh area).

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;

thread_local! {
    /// This thread's work area, sized by its first (configured) use.
    static AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` over a work area of `blocks` blocks: this thread's own when it has that size (or has
/// none yet, and then keeps one of that size), else a temporary one.
fn with_area<T>(blocks: usize, keep: bool, f: impl FnOnce(&mut [Block]) -> T) -> T {
    AREA.with(|area| match area.try_borrow_mut() {
        Ok(mut area) if area.len() == blocks || (area.is_empty() && keep) => {
            if area.is_empty() {
                area.resize(blocks, Block::default());
            }
            f(&mut area)
        }
        _ => f(&mut vec![Block::default(); blocks]),
    })
}

/// Hashes `password` with argon2id and `params` into a PHC string. The area is kept: these are
/// the configured parameters.
pub(crate) fn hash(password: &[u8], salt: Salt<'_>, params: &Params) -> Result<String, String> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let raw_salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(&argon, params, password, raw_salt, length, true)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches an argon2 (d, i or id) PHC hash; outputs compare in constant time.
pub(crate) fn verify(password: &[u8], hash: &PasswordHash<'_>, configured: &Params) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let keep = params.block_count() == configured.block_count();
    let argon = Argon2::new(algorithm, version, params.clone());
    compute(&argon, &params, password, raw_salt, expected.len(), keep)
        .is_ok_and(|computed| computed == *expected)
}

fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    length: usize,
    keep: bool,
) -> Result<Output, String> {
    Output::init_with(length, |out| {
        with_area(params.block_count(), keep, |area| {
            argon
                .hash_password_into_with_memory(password, salt, out, area)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};

    fn small() -> Params {
        Params::new(64, 1, 1, Some(32)).unwrap()
    }

    #[test]
    fn hashes_are_the_crates_own_and_verify_both_ways() {
        let params = small();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let ours = hash(b"hunter42", salt.as_salt(), &params).unwrap();
        let crates = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"hunter42", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, crates);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(verify(b"hunter42", &parsed, &params));
        assert!(!verify(b"hunter43", &parsed, &params));
        assert!(
            Argon2::default()
                .verify_password(b"hunter42", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn hashes_with_other_parameters_and_variants_verify_on_a_temporary_area() {
        let params = small();
        let salt = SaltString::encode_b64(b"fedcba9876543210").unwrap();
        hash(b"configured", salt.as_salt(), &params).unwrap();
        for (algorithm, memory) in [(Algorithm::Argon2i, 128), (Algorithm::Argon2d, 64)] {
            let other = Params::new(memory, 2, 1, Some(24)).unwrap();
            let theirs = Argon2::new(algorithm, Version::V0x10, other)
                .hash_password(b"pw", &salt)
                .unwrap()
                .to_string();
            let parsed = PasswordHash::new(&theirs).unwrap();
            assert!(verify(b"pw", &parsed, &params), "{theirs}");
            assert!(!verify(b"px", &parsed, &params), "{theirs}");
        }
        // The kept area still has the configured size.
        AREA.with(|a| assert_eq!(a.borrow().len(), params.block_count()));
    }

    #[test]
    fn a_hash_without_salt_or_output_never_matches() {
        let parsed = PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1").unwrap();
        assert!(!verify(b"", &parsed, &small()));
    }
}
