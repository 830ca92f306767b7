//! Authenticator assurance levels: a session's level from its AMR, an identity's highest available
//! level from its credentials, and the whoami rule that compares them (spec §1.4).

use crate::identity::{Credential, CredentialType};
use serde::{Deserialize, Serialize};
pub use sesame_types::Aal;
use sesame_types::AuthenticationMethod;

/// `session.whoami.required_aal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RequiredAal {
    /// Any authenticated session.
    Aal1,
    /// The identity's highest available level.
    #[default]
    HighestAvailable,
}

/// A session's level from its AMR (§1.4.1).
pub fn session_aal(amr: &[AuthenticationMethod]) -> Aal {
    if amr.is_empty() {
        return Aal::Aal0;
    }
    let upstream_mfa = |m: &AuthenticationMethod| {
        matches!(m.method.as_str(), "oidc" | "saml") && m.aal == Aal::Aal2
    };
    let a1 = amr.iter().any(|m| m.aal == Aal::Aal1 || upstream_mfa(m));
    let a2 = amr.iter().any(|m| m.aal == Aal::Aal2);
    if a1 && a2 { Aal::Aal2 } else { Aal::Aal1 }
}

/// An identity's highest available level from its credentials (§1.4.2).
pub fn available_aal(credentials: &[Credential]) -> Aal {
    if credentials.iter().any(Credential::counts_as_second_factor) {
        Aal::Aal2
    } else if credentials.iter().any(Credential::counts_as_first_factor) {
        Aal::Aal1
    } else {
        Aal::Aal0
    }
}

/// Whether a session of level `session` satisfies `required` for an identity whose highest available
/// level is `available`.
pub fn satisfies(required: RequiredAal, session: Aal, available: Aal) -> bool {
    if session >= Aal::Aal2 {
        return true;
    }
    match required {
        RequiredAal::Aal1 => session >= Aal::Aal1,
        RequiredAal::HighestAvailable => available < Aal::Aal2,
    }
}

impl Credential {
    pub(crate) fn counts_as_first_factor(&self) -> bool {
        match self.kind {
            CredentialType::Password => {
                !self.identifiers.is_empty()
                    && self
                        .config
                        .get("hashed_password")
                        .and_then(|v| v.as_str())
                        .is_some_and(|h| !h.is_empty())
            }
            CredentialType::Totp | CredentialType::LookupSecret => false,
        }
    }

    fn counts_as_second_factor(&self) -> bool {
        match self.kind {
            CredentialType::Totp => self
                .config
                .get("totp_url")
                .and_then(|v| v.as_str())
                .is_some_and(|u| u.starts_with("otpauth://")),
            CredentialType::LookupSecret => self
                .config
                .get("recovery_codes")
                .and_then(|v| v.as_array())
                .is_some_and(|c| !c.is_empty()),
            CredentialType::Password => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn amr(method: &str, aal: Aal) -> AuthenticationMethod {
        AuthenticationMethod {
            method: method.into(),
            aal,
            completed_at: Utc::now(),
            provider: None,
        }
    }

    #[test]
    fn session_level_follows_kratos_rules() {
        assert_eq!(session_aal(&[]), Aal::Aal0);
        assert_eq!(session_aal(&[amr("password", Aal::Aal1)]), Aal::Aal1);
        assert_eq!(
            session_aal(&[amr("password", Aal::Aal1), amr("totp", Aal::Aal2)]),
            Aal::Aal2
        );
        assert_eq!(
            session_aal(&[amr("webauthn", Aal::Aal2), amr("totp", Aal::Aal2)]),
            Aal::Aal1
        );
        assert_eq!(session_aal(&[amr("oidc", Aal::Aal2)]), Aal::Aal2);
    }

    #[test]
    fn the_whoami_rule_matches_the_matrix() {
        use RequiredAal::*;
        assert!(satisfies(HighestAvailable, Aal::Aal2, Aal::Aal2));
        assert!(satisfies(Aal1, Aal::Aal2, Aal::Aal2));
        assert!(!satisfies(HighestAvailable, Aal::Aal1, Aal::Aal2));
        assert!(satisfies(Aal1, Aal::Aal1, Aal::Aal2));
        assert!(satisfies(HighestAvailable, Aal::Aal1, Aal::Aal1));
        assert!(!satisfies(Aal1, Aal::Aal0, Aal::Aal1));
    }
}
