//! Anti-CSRF tokens for browser flows (spec §5.5): a real token in an HttpOnly cookie, and a
//! masked copy (a fresh random pad ‖ real XOR pad) in the flow's `csrf_token` node, so the value in
//! the page differs on every render (BREACH) while still proving knowledge of the cookie.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;

const LEN: usize = 32;

/// A new real token: base64 of 32 random bytes.
pub fn generate() -> String {
    let mut bytes = [0u8; LEN];
    OsRng.fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

/// Whether a cookie value is a well-formed real token.
pub fn is_valid(real: &str) -> bool {
    STANDARD.decode(real).is_ok_and(|b| b.len() == LEN)
}

/// The masked form of a real token, for the page.
pub fn mask(real: &str) -> Option<String> {
    let real = STANDARD.decode(real).ok().filter(|b| b.len() == LEN)?;
    let mut pad = [0u8; LEN];
    OsRng.fill_bytes(&mut pad);
    let mut out = pad.to_vec();
    out.extend(real.iter().zip(pad.iter()).map(|(r, p)| r ^ p));
    Some(STANDARD.encode(out))
}

/// Whether `submitted` (masked, or for lenient clients the real token itself) proves `real`, in
/// constant time.
pub fn verify(real: &str, submitted: &str) -> bool {
    let (Ok(real), Ok(sent)) = (STANDARD.decode(real), STANDARD.decode(submitted)) else {
        return false;
    };
    if real.len() != LEN {
        return false;
    }
    let unmasked: Vec<u8> = match sent.len() {
        n if n == 2 * LEN => sent[LEN..]
            .iter()
            .zip(&sent[..LEN])
            .map(|(x, p)| x ^ p)
            .collect(),
        n if n == LEN => sent,
        _ => return false,
    };
    unmasked.ct_eq(&real).into()
}

/// Why a browser submit failed the CSRF check (`details.reject_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No `Cookie` header at all.
    NoCookies,
    /// Cookies, but not the anti-CSRF one.
    CookieMissing,
    /// The token is neither in the body nor in `X-CSRF-Token`.
    TokenMissing,
    /// The token does not match the cookie (or the flow was made for another cookie).
    Mismatch,
}

impl Rejection {
    /// Kratos's `reject_reason` text.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::NoCookies => "The HTTP Cookie Header was set but was empty.",
            Rejection::CookieMissing => {
                "The HTTP Cookie Header was set but did not include the anti-CSRF cookie."
            }
            Rejection::TokenMissing => {
                "The anti-CSRF cookie was found but the CSRF token was not included in the HTTP request body (csrf_token) nor in the HTTP Header (X-CSRF-Token)."
            }
            Rejection::Mismatch => {
                "The HTTP Cookie Header was set and a CSRF token was sent but they do not match. We recommend deleting all cookies for this domain and retrying the flow."
            }
        }
    }
}

/// What a browser submit brings for the check.
#[derive(Debug, Clone, Default)]
pub struct CsrfInput {
    /// Whether the request had a `Cookie` header at all.
    pub has_cookies: bool,
    /// The real token from the anti-CSRF cookie, if present and well-formed.
    pub cookie: Option<String>,
    /// `X-CSRF-Token`.
    pub header: Option<String>,
}

/// Checks a browser submit: the token sent (body field first, then header) must prove the cookie,
/// and the cookie must be the one the flow was created for.
pub fn check(
    input: &CsrfInput,
    body_token: Option<&str>,
    flow_token: Option<&str>,
) -> Result<(), Rejection> {
    let Some(cookie) = input.cookie.as_deref() else {
        return Err(if input.has_cookies {
            Rejection::CookieMissing
        } else {
            Rejection::NoCookies
        });
    };
    let sent = body_token
        .filter(|t| !t.is_empty())
        .or(input.header.as_deref().filter(|t| !t.is_empty()));
    let Some(sent) = sent else {
        return Err(Rejection::TokenMissing);
    };
    let bound = flow_token.is_some_and(|f| bool::from(f.as_bytes().ct_eq(cookie.as_bytes())));
    if verify(cookie, sent) && bound {
        Ok(())
    } else {
        Err(Rejection::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_but_verify() {
        let real = generate();
        let (a, b) = (mask(&real).unwrap(), mask(&real).unwrap());
        assert_ne!(a, b);
        assert!(verify(&real, &a) && verify(&real, &b));
        assert!(!verify(&generate(), &a));
        assert!(!verify(&real, "garbage"));
    }

    #[test]
    fn the_check_names_what_is_missing() {
        let real = generate();
        let masked = mask(&real).unwrap();
        let with_cookie = CsrfInput {
            has_cookies: true,
            cookie: Some(real.clone()),
            header: None,
        };
        assert_eq!(
            check(&CsrfInput::default(), Some(&masked), Some(&real)),
            Err(Rejection::NoCookies)
        );
        let other_cookies = CsrfInput {
            has_cookies: true,
            ..CsrfInput::default()
        };
        assert_eq!(
            check(&other_cookies, Some(&masked), Some(&real)),
            Err(Rejection::CookieMissing)
        );
        assert_eq!(
            check(&with_cookie, None, Some(&real)),
            Err(Rejection::TokenMissing)
        );
        assert_eq!(
            check(&with_cookie, Some(&mask(&generate()).unwrap()), Some(&real)),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(&with_cookie, Some(&masked), Some(&generate())),
            Err(Rejection::Mismatch)
        );
        assert_eq!(check(&with_cookie, Some(&masked), Some(&real)), Ok(()));
        let via_header = CsrfInput {
            header: Some(masked),
            ..with_cookie
        };
        assert_eq!(check(&via_header, None, Some(&real)), Ok(()));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_cookie_or_token_is_checked_without_panic(real in any::<String>(), sent in any::<String>()) {
            let _ = is_valid(&real);
            let _ = mask(&real);
            prop_assert!(!verify(&real, &sent) || is_valid(&real));
        }

        #[test]
        fn masks_of_a_token_verify_and_others_do_not(other in any::<[u8; LEN]>()) {
            let real = generate();
            prop_assert!(verify(&real, &mask(&real).unwrap()));
            prop_assert!(verify(&real, &real), "the unmasked token, for lenient clients");
            let other = STANDARD.encode(other);
            prop_assume!(other != real);
            prop_assert!(!verify(&real, &other));
            prop_assert!(!verify(&real, &mask(&other).unwrap()));
        }
    }
}
