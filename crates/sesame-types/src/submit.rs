//! Bodies that clients submit to self-service flows (`updateLoginFlow`, `updateRegistrationFlow`,
//! `updateSettingsFlow`), tagged by `method` as Kratos's OpenAPI document tags them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Body of `POST /self-service/login?flow=…`, by method.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpdateLoginFlowBody {
    /// `method: password`.
    Password {
        /// The identifier (e.g. the email address).
        identifier: String,
        /// The password.
        password: String,
        /// The anti-CSRF token of a browser flow (omitted for API flows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
        /// Data passed to webhooks, not stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transient_payload: Option<Value>,
    },
    /// `method: totp`: the second factor of an `aal=aal2` flow.
    Totp {
        /// The 6-digit code of the authenticator app.
        totp_code: String,
        /// The anti-CSRF token of a browser flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
    },
    /// `method: lookup_secret`: a backup recovery code as the second factor.
    LookupSecret {
        /// One unused backup recovery code.
        lookup_secret: String,
        /// The anti-CSRF token of a browser flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
    },
}

impl UpdateLoginFlowBody {
    /// A password login for an API flow.
    pub fn password(identifier: impl Into<String>, password: impl Into<String>) -> Self {
        UpdateLoginFlowBody::Password {
            identifier: identifier.into(),
            password: password.into(),
            csrf_token: None,
            transient_payload: None,
        }
    }

    /// A TOTP code for an `aal=aal2` flow.
    pub fn totp(code: impl Into<String>) -> Self {
        UpdateLoginFlowBody::Totp {
            totp_code: code.into(),
            csrf_token: None,
        }
    }

    /// A backup recovery code for an `aal=aal2` flow.
    pub fn lookup_secret(code: impl Into<String>) -> Self {
        UpdateLoginFlowBody::LookupSecret {
            lookup_secret: code.into(),
            csrf_token: None,
        }
    }

    /// Sets the anti-CSRF token (browser flows: the value of the flow's `csrf_token` node).
    pub fn with_csrf_token(mut self, token: impl Into<String>) -> Self {
        match &mut self {
            UpdateLoginFlowBody::Password { csrf_token, .. }
            | UpdateLoginFlowBody::Totp { csrf_token, .. }
            | UpdateLoginFlowBody::LookupSecret { csrf_token, .. } => {
                *csrf_token = Some(token.into());
            }
        }
        self
    }
}

impl std::fmt::Debug for UpdateLoginFlowBody {
    // Passwords and anti-CSRF tokens never appear in `Debug` output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateLoginFlowBody::Password {
                identifier,
                csrf_token,
                ..
            } => f
                .debug_struct("Password")
                .field("identifier", identifier)
                .field("password", &"***")
                .field("csrf_token", &csrf_token.as_ref().map(|_| "***"))
                .finish_non_exhaustive(),
            UpdateLoginFlowBody::Totp { .. } => f
                .debug_struct("Totp")
                .field("totp_code", &"***")
                .finish_non_exhaustive(),
            UpdateLoginFlowBody::LookupSecret { .. } => f
                .debug_struct("LookupSecret")
                .field("lookup_secret", &"***")
                .finish_non_exhaustive(),
        }
    }
}

/// Body of `POST /self-service/registration?flow=…`, by method.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpdateRegistrationFlowBody {
    /// `method: password`.
    Password {
        /// The identity's traits, as the identity schema describes them.
        traits: Value,
        /// The password.
        password: String,
        /// The anti-CSRF token of a browser flow (omitted for API flows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
        /// Data passed to webhooks, not stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transient_payload: Option<Value>,
    },
}

impl UpdateRegistrationFlowBody {
    /// A password registration for an API flow.
    pub fn password(traits: Value, password: impl Into<String>) -> Self {
        UpdateRegistrationFlowBody::Password {
            traits,
            password: password.into(),
            csrf_token: None,
            transient_payload: None,
        }
    }

    /// Sets the anti-CSRF token (browser flows: the value of the flow's `csrf_token` node).
    pub fn with_csrf_token(mut self, token: impl Into<String>) -> Self {
        match &mut self {
            UpdateRegistrationFlowBody::Password { csrf_token, .. } => {
                *csrf_token = Some(token.into());
            }
        }
        self
    }
}

impl std::fmt::Debug for UpdateRegistrationFlowBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateRegistrationFlowBody::Password {
                traits, csrf_token, ..
            } => f
                .debug_struct("Password")
                .field("traits", traits)
                .field("password", &"***")
                .field("csrf_token", &csrf_token.as_ref().map(|_| "***"))
                .finish_non_exhaustive(),
        }
    }
}

/// Body of `POST /self-service/settings?flow=…`, by method.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpdateSettingsFlowBody {
    /// `method: profile`: replaces the identity's traits (all of them).
    Profile {
        /// The new traits.
        traits: Value,
        /// The anti-CSRF token of a browser flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
    },
    /// `method: password`: sets a new password (the old one is not asked for; the session must be
    /// privileged, i.e. recently authenticated).
    Password {
        /// The new password.
        password: String,
        /// The anti-CSRF token of a browser flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
    },
    /// `method: totp`: links the authenticator app shown in the flow (with a current code) or
    /// unlinks the linked one.
    Totp {
        /// A current code of the secret the flow shows, to link it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        totp_code: Option<String>,
        /// `true` to unlink the authenticator app.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        totp_unlink: Option<bool>,
        /// The anti-CSRF token of a browser flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
    },
    /// `method: lookup_secret`: backup recovery codes; set exactly one flag.
    LookupSecret {
        /// Generate new codes (shown, not saved until confirmed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lookup_secret_regenerate: Option<bool>,
        /// Save the codes just generated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lookup_secret_confirm: Option<bool>,
        /// Show the saved codes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lookup_secret_reveal: Option<bool>,
        /// Delete the saved codes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lookup_secret_disable: Option<bool>,
        /// The anti-CSRF token of a browser flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        csrf_token: Option<String>,
    },
}

/// The one action of a `lookup_secret` settings submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupSecretAction {
    /// `lookup_secret_regenerate`.
    Regenerate,
    /// `lookup_secret_confirm`.
    Confirm,
    /// `lookup_secret_reveal`.
    Reveal,
    /// `lookup_secret_disable`.
    Disable,
}

impl UpdateSettingsFlowBody {
    /// New traits.
    pub fn profile(traits: Value) -> Self {
        UpdateSettingsFlowBody::Profile {
            traits,
            csrf_token: None,
        }
    }

    /// A new password.
    pub fn password(password: impl Into<String>) -> Self {
        UpdateSettingsFlowBody::Password {
            password: password.into(),
            csrf_token: None,
        }
    }

    /// Links the flow's TOTP secret with a current code.
    pub fn totp_link(code: impl Into<String>) -> Self {
        UpdateSettingsFlowBody::Totp {
            totp_code: Some(code.into()),
            totp_unlink: None,
            csrf_token: None,
        }
    }

    /// Unlinks the authenticator app.
    pub fn totp_unlink() -> Self {
        UpdateSettingsFlowBody::Totp {
            totp_code: None,
            totp_unlink: Some(true),
            csrf_token: None,
        }
    }

    /// One backup-code action.
    pub fn lookup_secret(action: LookupSecretAction) -> Self {
        let flag = |a| (action == a).then_some(true);
        UpdateSettingsFlowBody::LookupSecret {
            lookup_secret_regenerate: flag(LookupSecretAction::Regenerate),
            lookup_secret_confirm: flag(LookupSecretAction::Confirm),
            lookup_secret_reveal: flag(LookupSecretAction::Reveal),
            lookup_secret_disable: flag(LookupSecretAction::Disable),
            csrf_token: None,
        }
    }

    /// Sets the anti-CSRF token (browser flows: the value of the flow's `csrf_token` node).
    pub fn with_csrf_token(mut self, token: impl Into<String>) -> Self {
        match &mut self {
            UpdateSettingsFlowBody::Profile { csrf_token, .. }
            | UpdateSettingsFlowBody::Password { csrf_token, .. }
            | UpdateSettingsFlowBody::Totp { csrf_token, .. }
            | UpdateSettingsFlowBody::LookupSecret { csrf_token, .. } => {
                *csrf_token = Some(token.into());
            }
        }
        self
    }
}

impl std::fmt::Debug for UpdateSettingsFlowBody {
    // Passwords, codes and anti-CSRF tokens never appear in `Debug` output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateSettingsFlowBody::Profile { traits, .. } => f
                .debug_struct("Profile")
                .field("traits", traits)
                .finish_non_exhaustive(),
            UpdateSettingsFlowBody::Password { .. } => f
                .debug_struct("Password")
                .field("password", &"***")
                .finish_non_exhaustive(),
            UpdateSettingsFlowBody::Totp { totp_unlink, .. } => f
                .debug_struct("Totp")
                .field("totp_code", &"***")
                .field("totp_unlink", totp_unlink)
                .finish_non_exhaustive(),
            UpdateSettingsFlowBody::LookupSecret {
                lookup_secret_regenerate,
                lookup_secret_confirm,
                lookup_secret_reveal,
                lookup_secret_disable,
                ..
            } => f
                .debug_struct("LookupSecret")
                .field("regenerate", lookup_secret_regenerate)
                .field("confirm", lookup_secret_confirm)
                .field("reveal", lookup_secret_reveal)
                .field("disable", lookup_secret_disable)
                .finish_non_exhaustive(),
        }
    }
}
