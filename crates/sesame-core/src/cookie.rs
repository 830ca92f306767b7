//! The session cookie's value: an AEAD-sealed record of the session token and its expiry.
//!
//! Sesame does not reproduce Kratos's gorilla/securecookie format (DESIGN.md, difference 3). The
//! record is sealed with XChaCha20-Poly1305 under a key derived from each `secrets.cookie` entry; the
//! first key seals, every key opens, so rotating is prepending a new secret. The cookie name is bound
//! as associated data. A value that fails to open is treated as no cookie at all.

use crate::token::SessionToken;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// What a session cookie carries.
#[derive(Debug, Clone)]
pub struct CookieRecord {
    /// The session token.
    pub token: SessionToken,
    /// The session's expiry when the cookie was issued.
    pub expires_at: DateTime<Utc>,
}

/// Seals and opens session cookie values.
#[derive(Clone)]
pub struct CookieSealer {
    keys: Vec<XChaCha20Poly1305>,
    name: String,
}

impl std::fmt::Debug for CookieSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieSealer")
            .field("keys", &self.keys.len())
            .finish()
    }
}

const NONCE_LEN: usize = 24;

impl CookieSealer {
    /// One key per secret, first one current. `secrets` must not be empty.
    pub fn new(secrets: &[String], cookie_name: &str) -> Self {
        let keys = secrets
            .iter()
            .map(|s| {
                // Domain-separated SHA-256 turns a secret of any length into a 256-bit key.
                let key = Sha256::new()
                    .chain_update(b"sesame session cookie v1\0")
                    .chain_update(s.as_bytes())
                    .finalize();
                XChaCha20Poly1305::new(&key)
            })
            .collect();
        Self {
            keys,
            name: cookie_name.to_owned(),
        }
    }

    /// Seals a record into a cookie value.
    pub fn seal(&self, record: &CookieRecord) -> Option<String> {
        let key = self.keys.first()?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plain = format!(
            "{}|{}",
            record.expires_at.timestamp_micros(),
            record.token.expose()
        );
        let sealed = key
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: self.name.as_bytes(),
                },
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a cookie value with any configured key.
    pub fn open(&self, value: &str) -> Option<CookieRecord> {
        if value.len() > 4096 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = XNonce::from_slice(nonce);
        let plain = self.keys.iter().find_map(|k| {
            k.decrypt(
                nonce,
                Payload {
                    msg: sealed,
                    aad: self.name.as_bytes(),
                },
            )
            .ok()
        })?;
        let plain = String::from_utf8(plain).ok()?;
        let (micros, token) = plain.split_once('|')?;
        Some(CookieRecord {
            token: SessionToken::from_client(token)?,
            expires_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_keys_still_open_after_rotation_and_garbage_does_not() {
        let record = CookieRecord {
            token: SessionToken::generate(),
            expires_at: Utc::now(),
        };
        let old = CookieSealer::new(&["foo-foo-foo-foo-foo".into()], "ory_kratos_session");
        let sealed = old.seal(&record).unwrap();
        let rotated = CookieSealer::new(
            &["bar-bar-bar-bar-bar".into(), "foo-foo-foo-foo-foo".into()],
            "ory_kratos_session",
        );
        let opened = rotated.open(&sealed).unwrap();
        assert_eq!(opened.token, record.token);
        assert!(rotated.open("garbage").is_none());
        let other_name = CookieSealer::new(&["foo-foo-foo-foo-foo".into()], "other");
        assert!(other_name.open(&sealed).is_none());
        assert_ne!(old.seal(&record).unwrap(), sealed);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn sealer() -> CookieSealer {
        CookieSealer::new(&["prop-prop-prop-prop".into()], "ory_kratos_session")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_cookie_value_opens_or_is_no_cookie(value in any::<String>()) {
            let _ = sealer().open(&value);
        }

        #[test]
        fn base64_of_any_bytes_is_refused(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            prop_assert!(sealer().open(&URL_SAFE_NO_PAD.encode(bytes)).is_none());
        }

        #[test]
        fn sealed_records_open_to_themselves(token in "[ -~]{1,64}", micros in -8_000_000_000_000_000i64..8_000_000_000_000_000) {
            let expires_at = DateTime::from_timestamp_micros(micros).unwrap();
            let record = CookieRecord { token: SessionToken::from_client(&token).unwrap(), expires_at };
            let s = sealer();
            let opened = s.open(&s.seal(&record).unwrap()).unwrap();
            prop_assert_eq!(opened.token, record.token);
            prop_assert_eq!(opened.expires_at, expires_at);
        }

        #[test]
        fn a_changed_character_never_opens(token in "[a-z]{8}", at in any::<prop::sample::Index>(), c in "[A-Za-z0-9_-]") {
            let s = sealer();
            let record = CookieRecord { token: SessionToken::from_client(&token).unwrap(), expires_at: Utc::now() };
            let sealed = s.seal(&record).unwrap();
            let i = at.index(sealed.len());
            let mut changed = sealed.clone();
            changed.replace_range(i..=i, &c);
            prop_assume!(changed != sealed);
            // Base64's last character may carry unused bits: the same bytes, or none that open.
            if let Some(opened) = s.open(&changed) {
                prop_assert_eq!(opened.token, record.token);
            }
        }
    }
}
