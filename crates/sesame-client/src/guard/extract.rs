//! The [`CurrentSession`] and [`OptionalSession`] extractors.

use super::rejection::{Refusal, Rejection};
use super::{SessionGuard, original_uri};
use axum::extract::FromRequestParts;
use http::request::Parts;
use std::ops::{Deref, DerefMut};

/// The active session of the request (a [`Session`](crate::Session)), or the guard's
/// [`Rejection`].
///
/// Takes the session a [`SessionLayer`](super::SessionLayer) resolved; without one, resolves it
/// through the [`SessionGuard`] in the request extensions (add `axum::Extension(guard)`, or either
/// layer). No guard at all is a configuration mistake, answered `500`.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentSession(pub sesame_types::Session);

impl CurrentSession {
    /// The session itself.
    pub fn into_inner(self) -> sesame_types::Session {
        self.0
    }
}

impl Deref for CurrentSession {
    type Target = sesame_types::Session;

    fn deref(&self) -> &sesame_types::Session {
        &self.0
    }
}

impl DerefMut for CurrentSession {
    fn deref_mut(&mut self) -> &mut sesame_types::Session {
        &mut self.0
    }
}

/// The active session of the request (a [`Session`](crate::Session)), if there is one.
///
/// `None` when the request has no active session *and* when the session needs a second factor
/// (check `authenticator_assurance_level` yourself, or use [`CurrentSession`], to tell them
/// apart).
/// Still rejects with `502` when whoami cannot be reached (a visitor must not look signed out
/// because the session server is down), and with `500` when no [`SessionGuard`] is configured.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionalSession(pub Option<sesame_types::Session>);

impl OptionalSession {
    /// The session itself, if any.
    pub fn into_inner(self) -> Option<sesame_types::Session> {
        self.0
    }
}

impl Deref for OptionalSession {
    type Target = Option<sesame_types::Session>;

    fn deref(&self) -> &Option<sesame_types::Session> {
        &self.0
    }
}

/// The session, the refusal and the guard that turns it into a response.
async fn resolve(
    parts: &mut Parts,
) -> Result<Result<sesame_types::Session, (SessionGuard, Refusal)>, Rejection> {
    if let Some(session) = parts.extensions.get::<sesame_types::Session>() {
        return Ok(Ok(session.clone()));
    }
    let Some(guard) = parts.extensions.get::<SessionGuard>().cloned() else {
        tracing::error!("a session extractor found no SessionGuard in the request extensions");
        return Err(Rejection::not_configured());
    };
    Ok(guard.resolve_parts(parts).await.map_err(|r| (guard, r)))
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        match resolve(parts).await? {
            Ok(session) => Ok(CurrentSession(session)),
            Err((guard, refusal)) => Err(guard.reject(&refusal, original_uri(parts))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for OptionalSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        match resolve(parts).await? {
            Ok(session) => Ok(OptionalSession(Some(session))),
            Err((guard, refusal @ Refusal::Unavailable)) => {
                Err(guard.reject(&refusal, original_uri(parts)))
            }
            Err(_) => Ok(OptionalSession(None)),
        }
    }
}
