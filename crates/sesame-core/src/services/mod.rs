//! Services: the operations the HTTP layer calls, one per endpoint family. Each takes `now` from the
//! application's clock and returns domain values or a [`CoreError`](crate::CoreError).

mod cleanup;
mod identities;
mod identity_admin;
mod identity_lock;
mod identity_patch;
mod import;
mod login;
mod registration;
mod second_factor;
mod session_admin;
mod sessions;
mod settings;

pub use cleanup::{CleanupService, CleanupStep};
pub use identities::{IdentityPage, IdentityService};
pub use identity_admin::{BATCH_LIMIT, BATCH_PLAINTEXT_LIMIT, BatchItem, BatchOutcome};
pub use import::{ExportPage, ExportedIdentity, RecordError};
pub use login::{LoginInit, LoginService, LoginSubmission, LoginSuccess};
pub use registration::{RegistrationService, RegistrationSubmission, RegistrationSuccess};
pub use session_admin::{Expand, KeysetPage, SessionCursor, SessionPage};
pub use sessions::{SessionService, WhoamiAnswer};
pub use settings::{SettingsAnswer, SettingsInit, SettingsService};

pub use crate::csrf::CsrfInput;

use crate::aal::{Aal, RequiredAal};
use crate::clock::Clock;
use crate::identity::Identity;
use crate::ids::{IdentityId, SessionId};
use crate::password::{Hasher, PasswordPolicy};
use crate::schema::SchemaRegistry;
use crate::session::Session;
use crate::store::Store;
use crate::token::{LogoutToken, SessionToken};
use chrono::{DateTime, Utc};
use sesame_types::{AuthenticationMethod, Device};
use std::sync::Arc;
use uuid::Uuid;

/// Settings the services need, taken from the configuration.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// `serve.public.base_url`, ending in `/`.
    pub public_base_url: String,
    /// `session.lifespan`.
    pub session_lifespan: chrono::Duration,
    /// `session.whoami.required_aal`.
    pub required_aal: RequiredAal,
    /// `session.earliest_possible_extend` (default: the lifespan): an admin extension is a no-op
    /// while the session has more than this left.
    pub earliest_possible_extend: chrono::Duration,
    /// `selfservice.flows.login.lifespan`.
    pub login_lifespan: chrono::Duration,
    /// `selfservice.flows.registration.lifespan`.
    pub registration_lifespan: chrono::Duration,
    /// `selfservice.methods.password.enabled`.
    pub password_enabled: bool,
    /// `selfservice.methods.password.config`.
    pub password_policy: PasswordPolicy,
    /// `selfservice.flows.registration.after.password.hooks` contains `session`.
    pub registration_session_hook: bool,
    /// `selfservice.flows.settings.lifespan`.
    pub settings_lifespan: chrono::Duration,
    /// `selfservice.flows.settings.privileged_session_max_age`.
    pub privileged_session_max_age: chrono::Duration,
    /// `selfservice.flows.settings.required_aal`.
    pub settings_required_aal: RequiredAal,
    /// `selfservice.methods.profile.enabled`.
    pub profile_enabled: bool,
    /// `selfservice.methods.totp.enabled`.
    pub totp_enabled: bool,
    /// `selfservice.methods.totp.config.issuer` (default: the public base URL's host).
    pub totp_issuer: String,
    /// `selfservice.methods.lookup_secret.enabled`.
    pub lookup_secret_enabled: bool,
    /// The settings methods whose `after.<method>.hooks` contain `revoke_active_sessions`.
    pub revoke_sessions_after: Vec<String>,
}

impl CoreSettings {
    /// `<public base>/<path>` without a double slash.
    pub fn public_url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.public_base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// What every service shares.
pub struct Deps {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Identity schemas.
    pub schemas: Arc<SchemaRegistry>,
    /// Password hasher.
    pub hasher: Hasher,
    /// Settings.
    pub settings: CoreSettings,
    /// The limiter every check of a secret goes through first (`security.brute_force`).
    pub throttle: crate::throttle::Throttle,
}

/// What a flow submit brings besides its body.
#[derive(Debug, Clone, Default)]
pub struct SubmitContext {
    /// The request's session token (header, cookie or bearer), if any.
    pub token: Option<SessionToken>,
    /// API flows: why the request looks like a browser's (`Cookie`, `Origin`), if it does.
    pub browser_header: Option<String>,
    /// Browser flows: what the CSRF check needs.
    pub csrf: crate::csrf::CsrfInput,
    /// The request is a browser navigation (an HTML form post), not a JSON request (spec §5.2):
    /// browser flows then send a signed-in browser on instead of rendering an error into the flow.
    pub navigation: bool,
    /// The device.
    pub client: ClientInfo,
}

/// Who is asking, as far as devices are concerned.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Client IP without port.
    pub ip: Option<String>,
    /// `User-Agent`, truncated to 512 bytes.
    pub user_agent: Option<String>,
    /// `"<city>, <country>"` or `""`.
    pub location: Option<String>,
}

/// A freshly created session with the tokens that are handed out once.
#[derive(Debug)]
pub struct IssuedSession {
    /// The stored session.
    pub session: Session,
    /// Its token (shown to the client once).
    pub token: SessionToken,
    /// Its logout token.
    pub logout_token: LogoutToken,
}

/// Creates an active session for `identity` after `method` was completed at `now`.
pub(crate) fn issue_session(
    identity: &Identity,
    method: &str,
    aal: Aal,
    client: &ClientInfo,
    lifespan: chrono::Duration,
    now: DateTime<Utc>,
) -> IssuedSession {
    let token = SessionToken::generate();
    let logout_token = LogoutToken::derive(&token);
    let mut session = Session {
        id: SessionId::new(),
        identity_id: identity.id,
        token_digest: token.digest(),
        logout_token_digest: logout_token.digest(),
        active: true,
        aal: Aal::Aal0,
        authentication_methods: Vec::new(),
        devices: vec![Device {
            id: Uuid::new_v4(),
            ip_address: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            location: Some(client.location.clone().unwrap_or_default()),
        }],
        issued_at: now,
        expires_at: now + lifespan,
        authenticated_at: now,
        created_at: now,
        updated_at: now,
    };
    session.complete_factor(AuthenticationMethod {
        method: method.to_owned(),
        aal,
        completed_at: now,
        provider: None,
    });
    IssuedSession {
        session,
        token,
        logout_token,
    }
}

/// The active session a request carries, with its identity, if any.
pub(crate) async fn active_session(
    deps: &Deps,
    token: Option<&SessionToken>,
    now: DateTime<Utc>,
) -> Result<Option<(Session, Identity)>, crate::CoreError> {
    let Some(token) = token else { return Ok(None) };
    Ok(deps
        .store
        .session_by_token(&token.digest())
        .await?
        .filter(|(s, i)| s.is_active(now, Some(i))))
}

/// Looks an identity up or fails with `NotFound`.
pub(crate) async fn identity_or_404(
    deps: &Deps,
    id: IdentityId,
) -> Result<Identity, crate::CoreError> {
    deps.store
        .identity(id)
        .await?
        .ok_or(crate::CoreError::NotFound)
}

/// Why a flow submit did not succeed.
pub(crate) enum Failure {
    /// Rendered into the flow (400 with the flow).
    Flow,
    /// An error response.
    Core(crate::CoreError),
}

impl From<crate::CoreError> for Failure {
    fn from(e: crate::CoreError) -> Self {
        Failure::Core(e)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::Core(e.into())
    }
}

/// Refuses a browser flow submit that fails the anti-CSRF check (API flows have none).
pub(crate) fn check_csrf(
    flow_type: sesame_types::FlowType,
    flow_token: Option<&str>,
    body: &Result<serde_json::Value, String>,
    input: &crate::csrf::CsrfInput,
) -> Result<(), crate::CoreError> {
    if flow_type != sesame_types::FlowType::Browser {
        return Ok(());
    }
    let body_token = body
        .as_ref()
        .ok()
        .and_then(|v| v.get("csrf_token"))
        .and_then(serde_json::Value::as_str);
    crate::csrf::check(input, body_token, flow_token).map_err(crate::CoreError::Csrf)
}

/// A browser flow may be read only with the anti-CSRF cookie it was created for.
pub(crate) fn check_flow_owner(
    flow_type: sesame_types::FlowType,
    flow_token: Option<&str>,
    cookie: Option<&str>,
) -> Result<(), crate::CoreError> {
    use subtle::ConstantTimeEq;
    if flow_type != sesame_types::FlowType::Browser {
        return Ok(());
    }
    match (flow_token, cookie) {
        (Some(f), Some(c)) if bool::from(f.as_bytes().ct_eq(c.as_bytes())) => Ok(()),
        (_, None) => Err(crate::CoreError::Csrf(
            crate::csrf::Rejection::CookieMissing,
        )),
        _ => Err(crate::CoreError::Csrf(crate::csrf::Rejection::Mismatch)),
    }
}
