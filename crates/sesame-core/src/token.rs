//! Session and logout tokens. They are secrets: generated from the OS CSPRNG, printed as `***`, and
//! stored only as SHA-256 digests.

use rand::Rng;
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::fmt;

fn random_alphanumeric(n: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// The SHA-256 digest of a token: the only form in which tokens are stored and looked up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    /// Digest of any token string.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// From stored bytes; `None` if they are not 32 bytes long.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(b).ok().map(Self)
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(***)")
    }
}

macro_rules! secret_token {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// A new token: the prefix and 32 characters from `[a-zA-Z0-9]`, from the OS CSPRNG.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, random_alphanumeric(32)))
            }

            /// Wraps a token received from a client; `None` when empty.
            pub fn from_client(s: &str) -> Option<Self> {
                if s.is_empty() { None } else { Some(Self(s.to_owned())) }
            }

            /// The token itself, for the one response that hands it out.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Its digest, the storage key.
            pub fn digest(&self) -> TokenDigest {
                TokenDigest::of(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(***)", stringify!($name))
            }
        }
    };
}

secret_token!(
    /// A session token (`ory_st_…`).
    SessionToken,
    "ory_st_"
);
secret_token!(
    /// A logout token (`ory_lo_…`).
    LogoutToken,
    "ory_lo_"
);

impl LogoutToken {
    /// The logout token of a session: `ory_lo_` and 32 alphanumerics from HMAC-SHA256 keyed with the
    /// session token. Tokens are stored only as digests, so the logout URL Kratos hands out on every
    /// call must be derivable again; it can be derived only by whoever holds the session token
    /// (who may log out anyway), and it reveals nothing about it.
    pub fn derive(session: &SessionToken) -> Self {
        use hmac::{Hmac, Mac};
        const ALPHABET: &[u8; 62] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(session.expose().as_bytes()) else {
            // HMAC takes keys of any length; this cannot happen.
            return Self::generate();
        };
        mac.update(b"sesame logout token v1");
        let bytes = mac.finalize().into_bytes();
        // 256 is not a multiple of 62; the slight bias leaves ~190 bits of unpredictability.
        let suffix: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % 62]))
            .collect();
        Self(format!("ory_lo_{suffix}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_kratos_format_and_hide_in_debug() {
        let t = SessionToken::generate();
        assert_eq!(t.expose().len(), 39);
        assert!(t.expose().starts_with("ory_st_"));
        assert!(t.expose()[7..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(format!("{t:?}"), "SessionToken(***)");
        assert_ne!(t, SessionToken::generate());
        assert!(LogoutToken::generate().expose().starts_with("ory_lo_"));
    }

    #[test]
    fn logout_tokens_derive_stably_from_their_session() {
        let s = SessionToken::generate();
        let lo = LogoutToken::derive(&s);
        assert_eq!(lo, LogoutToken::derive(&s));
        assert_ne!(lo, LogoutToken::derive(&SessionToken::generate()));
        assert_eq!(lo.expose().len(), 39);
        assert!(lo.expose()[7..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn client_tokens_are_any_non_empty_text_and_never_printed(s in any::<String>()) {
            match SessionToken::from_client(&s) {
                Some(t) => {
                    prop_assert_eq!(t.expose(), s.as_str());
                    prop_assert_eq!(format!("{t:?}"), "SessionToken(***)");
                    prop_assert_eq!(t.digest(), TokenDigest::of(&s));
                }
                None => prop_assert!(s.is_empty()),
            }
        }
    }
}
