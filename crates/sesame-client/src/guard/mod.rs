//! axum integration (feature `axum`): who does this incoming request belong to?
//!
//! A [`SessionGuard`] forwards the incoming request's `Cookie`, `X-Session-Token` and bearer
//! `Authorization` headers to whoami through a [`Client`], and answers requests without a usable
//! session as configured: `401` with Kratos's error envelope or a `303` to the login UI (with
//! `return_to`), `403 session_aal2_required` or a `303` to the second-factor page, and `502` when
//! whoami cannot be reached. Positive answers may be cached for a short TTL, keyed by a SHA-256
//! digest of the credential (never the credential itself).
//!
//! - [`SessionGuard::layer`] requires a session on every route it wraps and puts the
//!   [`Session`](crate::Session) in the request extensions; [`SessionGuard::optional_layer`] only
//!   resolves it.
//! - The extractors [`CurrentSession`] and [`OptionalSession`] take the session a layer resolved,
//!   or resolve it themselves through a guard added with `axum::Extension(guard)`. whoami is asked
//!   at most once per request, however many layers and extractors look. Both hold the wire type
//!   [`sesame_client::Session`](crate::Session) (and deref to it).
//!
//! whoami is awaited inside the request's own future, never spawned: when the incoming request
//! is cancelled (the client goes away), the whoami call is dropped with it.
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::get;
//! use sesame_client::Client;
//! use sesame_client::guard::{CurrentSession, OnAal2, OnInactive, OptionalSession, SessionGuard};
//! use std::time::Duration;
//!
//! async fn dashboard(CurrentSession(session): CurrentSession) -> String {
//!     format!("session {}", session.id)
//! }
//!
//! async fn home(OptionalSession(session): OptionalSession) -> &'static str {
//!     if session.is_some() { "welcome back" } else { "hello, stranger" }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("http://127.0.0.1:4433").build()?;
//! let guard = SessionGuard::builder(client)
//!     .on_inactive(OnInactive::RedirectToLogin {
//!         login_url: "http://127.0.0.1:4433/self-service/login/browser".into(),
//!     })
//!     .return_to_base("http://127.0.0.1:3000")
//!     .on_aal2(OnAal2::Redirect)
//!     .cache(Duration::from_secs(5), 10_000)
//!     .build()?;
//! let app = Router::new()
//!     .route("/dashboard", get(dashboard))
//!     // Every route above needs a session.
//!     .route_layer(guard.layer())
//!     .route("/", get(home))
//!     // Lets extractors on the other routes resolve the session when they are used.
//!     .layer(axum::Extension(guard));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```

mod builder;
mod cache;
mod credentials;
mod extract;
mod layer;
mod rejection;

pub use builder::{ConfigError, OnAal2, OnInactive, SessionGuardBuilder};
pub use extract::{CurrentSession, OptionalSession};
pub use layer::{SessionLayer, SessionService};
pub use rejection::{Rejection, RejectionKind};

use crate::{Client, ErrorKind};
use axum::extract::OriginalUri;
use cache::SessionCache;
use credentials::Credentials;
use http::request::Parts;
use http::{HeaderMap, Uri};
use rejection::Refusal;
use sesame_types::ErrorEnvelope;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The session cookie name a guard expects unless told otherwise (Kratos's default).
pub const DEFAULT_SESSION_COOKIE_NAME: &str = "ory_kratos_session";

/// Resolves incoming requests' sessions through whoami; cheap to clone (an `Arc` inside).
/// Build one with [`SessionGuard::builder`].
#[derive(Clone)]
pub struct SessionGuard {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    login_url: Option<url::Url>,
    return_to_base: Option<String>,
    on_aal2: OnAal2,
    cookie_name: String,
    cache: Option<SessionCache>,
}

impl std::fmt::Debug for SessionGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("SessionGuard")
            .field("public_url", &inner.client.public_url())
            .field("login_url", &inner.login_url.as_ref().map(url::Url::as_str))
            .field("return_to_base", &inner.return_to_base)
            .field("on_aal2", &inner.on_aal2)
            .field("cookie_name", &inner.cookie_name)
            .field(
                "cache",
                &inner.cache.as_ref().map(|c| (c.ttl(), c.max_entries())),
            )
            .finish()
    }
}

/// Records a refusal in the request extensions, so that whoami is asked once per request.
#[derive(Clone)]
struct Refused(Refusal);

impl SessionGuard {
    /// The client whoami is asked through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// A layer that requires a session: requests without one are answered with the configured
    /// [`Rejection`]; the others reach the inner service with the [`Session`](crate::Session) (and
    /// this guard) in their extensions.
    pub fn layer(&self) -> SessionLayer {
        SessionLayer::new(self.clone(), true)
    }

    /// A layer that resolves the session but refuses nothing: the inner service sees a
    /// [`Session`](crate::Session) in the extensions when there is an active one, none when the
    /// session is inactive or needs a second factor. Only an unreachable whoami is answered (502).
    pub fn optional_layer(&self) -> SessionLayer {
        SessionLayer::new(self.clone(), false)
    }

    /// Resolves the session of a request with these `headers`; `uri` is the request's URI (origin
    /// form), which `return_to` points back to. A request without credentials is refused without
    /// asking whoami.
    pub async fn check(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<sesame_types::Session, Rejection> {
        self.resolve(headers)
            .await
            .map_err(|refusal| self.reject(&refusal, uri))
    }

    /// The session of `headers`: from the cache, or from whoami.
    async fn resolve(&self, headers: &HeaderMap) -> Result<sesame_types::Session, Refusal> {
        let credentials = Credentials::from_headers(headers);
        if credentials.is_empty() {
            return Err(Refusal::Inactive(None));
        }
        let cache = self
            .inner
            .cache
            .as_ref()
            .map(|cache| (cache, credentials.cache_key(&self.inner.cookie_name)));
        let hit = cache
            .as_ref()
            .and_then(|(cache, key)| cache.get(key, Instant::now(), SystemTime::now()));
        if let Some(session) = hit {
            return Ok(session);
        }
        let mut whoami = self.inner.client.to_session();
        if let Some(token) = credentials.token {
            whoami = whoami.x_session_token(token);
        }
        if let Some(cookie) = &credentials.cookie {
            whoami = whoami.cookie(cookie);
        }
        if let Some(authorization) = credentials.authorization {
            whoami = whoami.header("authorization", authorization);
        }
        let answer = whoami.send().await;
        match answer {
            Ok(res) => {
                if let Some((cache, key)) = cache {
                    cache.insert(key, res.data.clone(), Instant::now(), SystemTime::now());
                }
                Ok(res.data)
            }
            Err(e) => {
                let envelope = || {
                    e.response
                        .as_ref()
                        .and_then(|r| serde_json::from_slice::<ErrorEnvelope>(&r.body).ok())
                };
                Err(match &e.kind {
                    ErrorKind::SessionInactive => Refusal::Inactive(envelope()),
                    ErrorKind::Aal2Required {
                        redirect_browser_to,
                    } => Refusal::Aal2 {
                        redirect_browser_to: redirect_browser_to.clone(),
                        envelope: envelope(),
                    },
                    _ => {
                        // Display shows the method, URL and kind only: never a credential.
                        tracing::warn!(error = %e, "whoami failed: answering 502");
                        Refusal::Unavailable
                    }
                })
            }
        }
    }

    /// The session of a request being handled: the one already in its extensions, a refusal
    /// already recorded there, or whoami's answer (then recorded).
    pub(crate) async fn resolve_parts(
        &self,
        parts: &mut Parts,
    ) -> Result<sesame_types::Session, Refusal> {
        if let Some(session) = parts.extensions.get::<sesame_types::Session>() {
            return Ok(session.clone());
        }
        if let Some(Refused(refusal)) = parts.extensions.get::<Refused>() {
            return Err(refusal.clone());
        }
        let outcome = self.resolve(&parts.headers).await;
        match &outcome {
            Ok(session) => {
                parts.extensions.insert(session.clone());
            }
            Err(refusal) => {
                parts.extensions.insert(Refused(refusal.clone()));
            }
        }
        outcome
    }

    /// The answer to a refused request, as configured.
    pub(crate) fn reject(&self, refusal: &Refusal, uri: &Uri) -> Rejection {
        match refusal {
            Refusal::Inactive(upstream) => self
                .inner
                .login_url
                .as_ref()
                .and_then(|login| {
                    Rejection::redirect(RejectionKind::Inactive, &self.login_location(login, uri))
                })
                .unwrap_or_else(|| Rejection::unauthorized(upstream.clone())),
            Refusal::Aal2 {
                redirect_browser_to,
                envelope,
            } => {
                let redirect = match (self.inner.on_aal2, redirect_browser_to) {
                    (OnAal2::Redirect, Some(to)) => Rejection::redirect(
                        RejectionKind::Aal2Required {
                            redirect_browser_to: Some(to.clone()),
                        },
                        to,
                    ),
                    _ => None,
                };
                redirect.unwrap_or_else(|| {
                    Rejection::aal2_required(redirect_browser_to.clone(), envelope.clone())
                })
            }
            Refusal::Unavailable => Rejection::unavailable(),
        }
    }

    /// The login URL, with `return_to` = the app's base URL + the request's path and query.
    fn login_location(&self, login: &url::Url, uri: &Uri) -> String {
        let mut login = login.clone();
        if let Some(base) = &self.inner.return_to_base {
            let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
            let path = if path.starts_with('/') { path } else { "/" };
            login
                .query_pairs_mut()
                .append_pair("return_to", &format!("{base}{path}"));
        }
        login.into()
    }
}

/// The URI the client asked for, before any `Router::nest` stripped a prefix from it.
pub(crate) fn original_uri(parts: &Parts) -> &Uri {
    parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder("http://127.0.0.1:4433").build().unwrap()
    }

    fn guard(base: Option<&str>) -> SessionGuard {
        let mut builder =
            SessionGuard::builder(client()).on_inactive(OnInactive::RedirectToLogin {
                login_url: "https://auth.example.com/self-service/login/browser?x=1".into(),
            });
        if let Some(base) = base {
            builder = builder.return_to_base(base);
        }
        builder.build().unwrap()
    }

    #[test]
    fn login_redirects_carry_an_encoded_return_to() {
        let uri: Uri = "/a%20b/c?q=1&r=two words"
            .replace(' ', "%20")
            .parse()
            .unwrap();
        let rejection =
            guard(Some("https://app.example.com/")).reject(&Refusal::Inactive(None), &uri);
        assert_eq!(rejection.status(), http::StatusCode::SEE_OTHER);
        assert_eq!(
            rejection.location(),
            Some(
                "https://auth.example.com/self-service/login/browser?x=1&return_to=\
                 https%3A%2F%2Fapp.example.com%2Fa%2520b%2Fc%3Fq%3D1%26r%3Dtwo%2520words"
            )
        );
        let rejection = guard(None).reject(&Refusal::Inactive(None), &uri);
        assert_eq!(
            rejection.location(),
            Some("https://auth.example.com/self-service/login/browser?x=1")
        );
    }

    #[test]
    fn an_aal2_redirect_without_a_target_is_a_403() {
        let guard = SessionGuard::builder(client())
            .on_aal2(OnAal2::Redirect)
            .build()
            .unwrap();
        let refusal = Refusal::Aal2 {
            redirect_browser_to: None,
            envelope: None,
        };
        let rejection = guard.reject(&refusal, &Uri::from_static("/"));
        assert_eq!(rejection.status(), http::StatusCode::FORBIDDEN);
        let envelope = rejection.envelope().unwrap();
        assert_eq!(envelope.error.id.as_deref(), Some("session_aal2_required"));
    }
}
