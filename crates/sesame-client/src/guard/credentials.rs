//! The session credentials an incoming request carries, and the digest the cache keys them by.

use super::cache::CacheKey;
use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};
use sha2::{Digest, Sha256};

/// The credential headers of one incoming request, as they will be forwarded to whoami.
pub(crate) struct Credentials<'a> {
    /// `X-Session-Token`.
    pub(crate) token: Option<&'a str>,
    /// Every `Cookie` header, joined.
    pub(crate) cookie: Option<String>,
    /// A bearer `Authorization` header.
    pub(crate) authorization: Option<&'a str>,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

/// A header value as UTF-8 (cookies may hold non-ASCII text, which `to_str` refuses). A value
/// that is not UTF-8 cannot be forwarded through the SDK and counts as absent.
fn utf8(value: &http::HeaderValue) -> Option<&str> {
    std::str::from_utf8(value.as_bytes()).ok()
}

impl<'a> Credentials<'a> {
    /// Picks `X-Session-Token`, `Cookie` (every `Cookie` header, joined as HTTP/2 allows them to
    /// be split) and a bearer `Authorization` out of `headers`.
    pub(crate) fn from_headers(headers: &'a HeaderMap) -> Self {
        let token = headers.get("x-session-token").and_then(utf8);
        let cookies: Vec<&str> = headers.get_all(COOKIE).iter().filter_map(utf8).collect();
        let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
        // Only a bearer credential can be a session token: any other scheme (Basic …) belongs to
        // the app and is not sent to the session server.
        let authorization = headers
            .get_all(AUTHORIZATION)
            .iter()
            .filter_map(utf8)
            .find(|v| {
                v.get(..7)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
            });
        Self {
            token,
            cookie,
            authorization,
        }
    }

    /// Whether the request carries no credential at all (whoami would answer 401).
    pub(crate) fn is_empty(&self) -> bool {
        self.token.is_none() && self.cookie.is_none() && self.authorization.is_none()
    }

    /// The cache key: SHA-256 over everything whoami will see, so that the key never is (nor
    /// contains) a credential. Of the `Cookie` header, only the session cookie's value counts
    /// when it is there exactly once (the server reads no other cookie, and other cookies change
    /// often); otherwise the whole header does.
    pub(crate) fn cache_key(&self, cookie_name: &str) -> CacheKey {
        let mut digest = Sha256::new();
        digest.update(b"sesame-client guard v1");
        let cookie =
            self.cookie
                .as_deref()
                .map(|header| match session_cookie_value(header, cookie_name) {
                    Some(value) => (b's', value),
                    None => (b'c', header),
                });
        let parts = [
            self.token.map(|t| (b't', t)),
            cookie,
            self.authorization.map(|a| (b'a', a)),
        ];
        for part in parts {
            match part {
                Some((tag, value)) => {
                    // Tagged and length-prefixed: no two different sets of parts hash alike.
                    let len = u64::try_from(value.len()).unwrap_or(u64::MAX);
                    digest.update([tag]);
                    digest.update(len.to_be_bytes());
                    digest.update(value.as_bytes());
                }
                None => digest.update([0]),
            }
        }
        digest.finalize().into()
    }
}

/// The value of the cookie named `name` in a `Cookie` header, when it occurs exactly once.
fn session_cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    let mut values = header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v);
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    const TOKEN: &str = "ory_st_abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn cache_keys_are_digests_that_never_contain_the_credential() {
        let cases = [
            headers(&[("x-session-token", TOKEN)]),
            headers(&[("authorization", &format!("Bearer {TOKEN}"))]),
            headers(&[("cookie", &format!("ory_kratos_session={TOKEN}"))]),
            headers(&[("cookie", TOKEN)]),
        ];
        let mut keys = Vec::new();
        for map in &cases {
            let key = Credentials::from_headers(map).cache_key("ory_kratos_session");
            assert_eq!(key.len(), 32);
            for secret in [
                TOKEN.as_bytes(),
                &TOKEN.as_bytes()[7..],
                &TOKEN.as_bytes()[..8],
            ] {
                assert!(!key.windows(secret.len()).any(|w| w == secret));
            }
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!hex.contains(&TOKEN[7..15]));
            keys.push(key);
        }
        keys.sort();
        keys.dedup();
        assert_eq!(
            keys.len(),
            cases.len(),
            "each way of sending a credential keys apart"
        );
    }

    #[test]
    fn only_the_session_cookie_keys_a_cookie_header() {
        let key = |cookie: &str| {
            let map = headers(&[("cookie", cookie)]);
            Credentials::from_headers(&map).cache_key("ory_kratos_session")
        };
        assert_eq!(
            key("theme=dark; ory_kratos_session=abc"),
            key("ory_kratos_session=abc; lang=en")
        );
        assert_ne!(key("ory_kratos_session=abc"), key("ory_kratos_session=abd"));
        // Twice (which one would the server read?): the whole header is the key.
        assert_ne!(
            key("ory_kratos_session=abc; ory_kratos_session=x"),
            key("ory_kratos_session=abc; ory_kratos_session=y")
        );
        assert_ne!(key("theme=dark"), key("theme=light"));
    }

    #[test]
    fn only_bearer_authorizations_are_credentials() {
        let map = headers(&[("authorization", "Basic dXNlcjpwYXNz")]);
        assert!(Credentials::from_headers(&map).is_empty());
        let map = headers(&[("authorization", "bearer ory_st_x")]);
        assert!(!Credentials::from_headers(&map).is_empty());
        assert!(Credentials::from_headers(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn split_cookie_headers_are_joined() {
        let map = headers(&[("cookie", "a=1"), ("cookie", "ory_kratos_session=abc")]);
        let credentials = Credentials::from_headers(&map);
        assert_eq!(
            credentials.cookie.as_deref(),
            Some("a=1; ory_kratos_session=abc")
        );
        assert_eq!(format!("{credentials:?}"), "Credentials(***)");
    }
}
