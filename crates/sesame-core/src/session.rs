//! Sessions as stored, the activity rule (§1.3), and their wire view.

use crate::aal::{Aal, session_aal};
use crate::identity::{Identity, IdentityView};
use crate::ids::{IdentityId, SessionId};
use crate::token::TokenDigest;
use chrono::{DateTime, Utc};
use sesame_types::{AuthenticationMethod, Device};

/// A session. Tokens are held only as digests.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Session id.
    pub id: SessionId,
    /// Owner.
    pub identity_id: IdentityId,
    /// SHA-256 of the session token.
    pub token_digest: TokenDigest,
    /// SHA-256 of the logout token.
    pub logout_token_digest: TokenDigest,
    /// Revocation flag (false once logged out or revoked).
    pub active: bool,
    /// Level, recomputed from the AMR on every change.
    pub aal: Aal,
    /// Completed factors.
    pub authentication_methods: Vec<AuthenticationMethod>,
    /// Devices captured at creation.
    pub devices: Vec<Device>,
    /// Issue (activation) time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Time of the last completed factor.
    pub authenticated_at: DateTime<Utc>,
    /// Row creation.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
}

impl Session {
    /// §1.3: not revoked, not expired, and the identity (when loaded) is active.
    pub fn is_active(&self, now: DateTime<Utc>, identity: Option<&Identity>) -> bool {
        self.active && self.expires_at > now && identity.is_none_or(Identity::is_active)
    }

    /// Appends a completed factor and recomputes the level.
    pub fn complete_factor(&mut self, amr: AuthenticationMethod) {
        self.authenticated_at = amr.completed_at;
        self.authentication_methods.push(amr);
        self.aal = session_aal(&self.authentication_methods);
    }

    /// The wire view with the identity expanded (or deliberately hidden with `None`).
    pub fn to_wire(
        &self,
        now: DateTime<Utc>,
        identity: Option<&Identity>,
        public_base_url: &str,
    ) -> sesame_types::Session {
        self.clone()
            .into_wire(now, identity.cloned(), public_base_url)
    }

    /// The wire view, consuming the session and identity (no copies on the whoami path).
    pub fn into_wire(
        self,
        now: DateTime<Utc>,
        identity: Option<Identity>,
        public_base_url: &str,
    ) -> sesame_types::Session {
        sesame_types::Session {
            id: self.id.0,
            active: self.is_active(now, identity.as_ref()),
            expires_at: self.expires_at,
            authenticated_at: self.authenticated_at,
            authenticator_assurance_level: self.aal,
            authentication_methods: Some(self.authentication_methods),
            issued_at: self.issued_at,
            identity: identity.map(|i| i.into_wire(public_base_url, IdentityView::Public, None)),
            devices: Some(self.devices),
            tokenized: None,
        }
    }
}
