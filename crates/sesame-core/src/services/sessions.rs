//! whoami and native logout.

use super::{Deps, active_session};
use crate::aal::satisfies;
use crate::error::CoreError;
use crate::identity::Identity;
use crate::session::Session;
use crate::token::{LogoutToken, SessionToken, TokenDigest};
use crate::whoami_cache::{Memo, SharedSession};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// whoami's answer: the session and its identity, shared with the whoami cache when they come
/// from it, and the cache entry's memo (see [`Memo`]).
#[derive(Debug, Clone)]
pub struct WhoamiAnswer {
    /// The session.
    pub session: Arc<Session>,
    /// Its identity.
    pub identity: Arc<Identity>,
    /// Where what is rendered from this answer can be kept while the cache keeps the answer.
    pub memo: Option<Arc<Memo>>,
}

/// Session lookups and revocation.
#[derive(Clone)]
pub struct SessionService(pub(crate) Arc<Deps>);

impl SessionService {
    /// Builds the service.
    pub fn new(deps: Arc<Deps>) -> Self {
        Self(deps)
    }

    /// `GET /sessions/whoami`: one lookup by token digest, the activity rule, the AAL rule. No writes.
    pub async fn whoami(
        &self,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<WhoamiAnswer, CoreError> {
        let token = token.ok_or(CoreError::NoSession)?;
        let SharedSession {
            session,
            identity,
            memo,
        } = self
            .0
            .store
            .shared_session_by_token(&token.digest())
            .await?
            .filter(|found| found.session.is_active(now, Some(&found.identity)))
            .ok_or(CoreError::NoSession)?;
        if !satisfies(
            self.0.settings.required_aal,
            session.aal,
            identity.available_aal,
        ) {
            return Err(CoreError::Aal2Required);
        }
        Ok(WhoamiAnswer {
            session,
            identity,
            memo,
        })
    }

    /// `DELETE /self-service/logout/api`: possession of the token is the credential.
    pub async fn logout_native(&self, token: &str, now: DateTime<Utc>) -> Result<(), CoreError> {
        if token.is_empty() {
            return Err(CoreError::LogoutTokenUnknown);
        }
        if self
            .0
            .store
            .revoke_session_by_token(&TokenDigest::of(token), now)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::LogoutTokenUnknown)
        }
    }

    /// `GET /self-service/logout/browser`: the logout token of the request's session.
    pub async fn logout_token(
        &self,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<LogoutToken, CoreError> {
        match (token, active_session(&self.0, token, now).await?) {
            (Some(token), Some(_)) => Ok(LogoutToken::derive(token)),
            _ => Err(CoreError::SessionRequired),
        }
    }

    /// `GET /self-service/logout?token=`: ends the request's session if `logout_token` is its own.
    pub async fn logout_browser(
        &self,
        token: Option<&SessionToken>,
        logout_token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        use subtle::ConstantTimeEq;
        let (Some(token), Some((session, _))) = (token, active_session(&self.0, token, now).await?)
        else {
            return Err(CoreError::SessionRequired);
        };
        let given = TokenDigest::of(logout_token);
        if !bool::from(
            given
                .as_bytes()
                .ct_eq(session.logout_token_digest.as_bytes()),
        ) {
            return Err(CoreError::LogoutTokenMismatch);
        }
        self.0
            .store
            .revoke_session_by_token(&token.digest(), now)
            .await?;
        Ok(())
    }

    /// The wire view of whoami's answer.
    pub fn into_wire(&self, answer: WhoamiAnswer, now: DateTime<Utc>) -> sesame_types::Session {
        Arc::unwrap_or_clone(answer.session).into_wire(
            now,
            Some(Arc::unwrap_or_clone(answer.identity)),
            &self.0.settings.public_base_url,
        )
    }
}
