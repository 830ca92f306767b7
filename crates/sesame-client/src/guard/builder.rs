//! [`SessionGuardBuilder`] and the settings it takes.

use super::cache::SessionCache;
use super::{DEFAULT_SESSION_COOKIE_NAME, Inner, SessionGuard};
use crate::Client;
use std::sync::Arc;
use std::time::Duration;

/// How a request without an active session is answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OnInactive {
    /// `401 Unauthorized` with a `session_inactive` error envelope (the default; for APIs).
    #[default]
    Unauthorized,
    /// `303 See Other` to the login UI (for browsers), with `return_to` when
    /// [`SessionGuardBuilder::return_to_base`] is set.
    RedirectToLogin {
        /// The absolute login URL, e.g. `https://auth.example.com/self-service/login/browser`.
        login_url: String,
    },
}

/// How a session that needs a second factor (whoami's 403 `session_aal2_required`) is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnAal2 {
    /// `403 Forbidden` with whoami's `session_aal2_required` envelope (the default).
    #[default]
    Forbidden,
    /// `303 See Other` to the `redirect_browser_to` whoami named (403 when it named none).
    Redirect,
}

/// A [`SessionGuardBuilder`] setting that cannot work; nothing was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid session guard configuration: {0}")]
pub struct ConfigError(String);

/// Configures a [`SessionGuard`]; see [`SessionGuard::builder`].
#[derive(Debug)]
pub struct SessionGuardBuilder {
    client: Client,
    on_inactive: OnInactive,
    on_aal2: OnAal2,
    return_to_base: Option<String>,
    cache: Option<(Duration, usize)>,
    cookie_name: String,
}

impl SessionGuardBuilder {
    /// How requests without an active session are answered ([`OnInactive::Unauthorized`] by
    /// default).
    pub fn on_inactive(mut self, on_inactive: OnInactive) -> Self {
        self.on_inactive = on_inactive;
        self
    }

    /// How sessions needing a second factor are answered ([`OnAal2::Forbidden`] by default).
    pub fn on_aal2(mut self, on_aal2: OnAal2) -> Self {
        self.on_aal2 = on_aal2;
        self
    }

    /// The app's own base URL (e.g. `https://app.example.com`): login redirects then carry
    /// `return_to=<base><path and query of the request>`. None by default. The login server must
    /// allow it (`selfservice.allowed_return_urls`).
    pub fn return_to_base(mut self, base: impl Into<String>) -> Self {
        self.return_to_base = Some(base.into());
        self
    }

    /// Caches active sessions for `ttl` (up to `max_entries` of them, oldest evicted first), keyed
    /// by a digest of the credential; off by default. Within the TTL, a session revoked on the
    /// server is still let in, so keep it short (seconds); a session is never served past its own
    /// `expires_at`. A zero TTL or bound turns the cache off.
    pub fn cache(mut self, ttl: Duration, max_entries: usize) -> Self {
        self.cache = Some((ttl, max_entries));
        self
    }

    /// The session cookie's name (`ory_kratos_session` by default); it must match the server's
    /// `session.cookie.name`. It only chooses what the cache keys a `Cookie` header by: the whole
    /// header is always forwarded.
    pub fn session_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Builds the guard; fails on a login or base URL that is not absolute http(s), or an
    /// invalid cookie name.
    pub fn build(self) -> Result<SessionGuard, ConfigError> {
        let login_url = match self.on_inactive {
            OnInactive::Unauthorized => None,
            OnInactive::RedirectToLogin { login_url } => Some(http_url("login_url", &login_url)?),
        };
        let return_to_base = match self.return_to_base {
            Some(base) => {
                http_url("return_to_base", &base)?;
                Some(base.trim_end_matches('/').to_owned())
            }
            None => None,
        };
        let name = &self.cookie_name;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        {
            return Err(ConfigError(format!("invalid session cookie name {name:?}")));
        }
        let cache = self
            .cache
            .filter(|(ttl, max)| !ttl.is_zero() && *max > 0)
            .map(|(ttl, max)| SessionCache::new(ttl, max));
        Ok(SessionGuard {
            inner: Arc::new(Inner {
                client: self.client,
                login_url,
                return_to_base,
                on_aal2: self.on_aal2,
                cookie_name: self.cookie_name,
                cache,
            }),
        })
    }
}

fn http_url(what: &str, url: &str) -> Result<url::Url, ConfigError> {
    let parsed =
        url::Url::parse(url).map_err(|e| ConfigError(format!("{what} {url:?} is invalid: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError(format!("{what} {url:?} is not http(s)")));
    }
    Ok(parsed)
}

impl SessionGuard {
    /// Starts a guard asking whoami through `client`: `401` for inactive sessions, `403` for
    /// sessions needing a second factor, no cache, session cookie `ory_kratos_session`.
    pub fn builder(client: Client) -> SessionGuardBuilder {
        SessionGuardBuilder {
            client,
            on_inactive: OnInactive::default(),
            on_aal2: OnAal2::default(),
            return_to_base: None,
            cache: None,
            cookie_name: DEFAULT_SESSION_COOKIE_NAME.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder("http://127.0.0.1:4433").build().unwrap()
    }

    #[test]
    fn invalid_settings_are_refused_at_build() {
        let login = |url: &str| {
            SessionGuard::builder(client())
                .on_inactive(OnInactive::RedirectToLogin {
                    login_url: url.into(),
                })
                .build()
                .map(|_| ())
        };
        assert!(login("/self-service/login/browser").is_err());
        assert!(login("ftp://auth.example.com/login").is_err());
        assert!(login("https://auth.example.com/login").is_ok());
        let base = SessionGuard::builder(client())
            .return_to_base("app")
            .build();
        assert!(base.is_err());
        for name in ["", "a b", "a;b", "a=b"] {
            let built = SessionGuard::builder(client())
                .session_cookie_name(name)
                .build();
            assert!(built.is_err(), "{name:?}");
        }
    }
}
