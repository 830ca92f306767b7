//! The marker type of every operation, named as Ory's SDKs name them. `Client`'s methods return
//! `Request<Marker>`; the marker decides the answer type and the options the request offers.

use crate::endpoint::endpoints;
use serde_json::Value;
use sesame_types::{
    BatchPatchIdentitiesResponse, DeleteMySessionsCount, HealthStatus, Identity, IdentityLock,
    IdentitySchemaContainer, LoginFlow, LogoutFlow, ManageSessionsResponse, RegistrationFlow,
    Session, SettingsFlow, SuccessfulNativeLogin, SuccessfulNativeRegistration, Version,
};

endpoints! {
    /// `GET /sessions/whoami` ([`Client::to_session`](crate::Client::to_session)).
    ToSession => Session, Whoami;
    /// `GET /self-service/login/api`.
    CreateNativeLoginFlow => LoginFlow, Envelope;
    /// `GET /self-service/login/browser` (answered as JSON).
    CreateBrowserLoginFlow => LoginFlow, Envelope;
    /// `GET /self-service/login/flows?id=`.
    GetLoginFlow => LoginFlow, Envelope;
    /// `POST /self-service/login?flow=`.
    UpdateLoginFlow => SuccessfulNativeLogin, Login;
    /// `GET /self-service/registration/api`.
    CreateNativeRegistrationFlow => RegistrationFlow, Envelope;
    /// `GET /self-service/registration/browser` (answered as JSON).
    CreateBrowserRegistrationFlow => RegistrationFlow, Envelope;
    /// `GET /self-service/registration/flows?id=`.
    GetRegistrationFlow => RegistrationFlow, Envelope;
    /// `POST /self-service/registration?flow=`.
    UpdateRegistrationFlow => SuccessfulNativeRegistration, Registration;
    /// `GET /self-service/settings/api`.
    CreateNativeSettingsFlow => SettingsFlow, Envelope;
    /// `GET /self-service/settings/browser` (answered as JSON).
    CreateBrowserSettingsFlow => SettingsFlow, Envelope;
    /// `GET /self-service/settings/flows?id=`.
    GetSettingsFlow => SettingsFlow, Envelope;
    /// `POST /self-service/settings?flow=`.
    UpdateSettingsFlow => SettingsFlow, Settings;
    /// `DELETE /self-service/logout/api`.
    PerformNativeLogout => (), Envelope;
    /// `GET /self-service/logout/browser`.
    CreateBrowserLogoutFlow => LogoutFlow, Envelope;
    /// `GET /self-service/logout?token=` (answered 204 to JSON clients).
    UpdateLogoutFlow => (), Envelope;
    /// `GET /schemas`.
    ListIdentitySchemas => Vec<IdentitySchemaContainer>, Envelope;
    /// `GET /schemas/{id}`: the JSON Schema document itself.
    GetIdentitySchema => Value, Envelope;
    /// `GET /health/alive` (public) or `/admin/health/alive`.
    IsAlive => HealthStatus, Envelope;
    /// `GET /health/ready` (public) or `/admin/health/ready`.
    IsReady => HealthStatus, Envelope;
    /// `GET /admin/version`.
    GetVersion => Version, Envelope;
    /// `POST /admin/identities`.
    CreateIdentity => Identity, Envelope;
    /// `GET /admin/identities`.
    ListIdentities => Vec<Identity>, Envelope;
    /// `GET /admin/identities/{id}`.
    GetIdentity => Identity, Envelope;
    /// `PUT /admin/identities/{id}`.
    UpdateIdentity => Identity, Envelope;
    /// `DELETE /admin/identities/{id}`.
    DeleteIdentity => (), Envelope;
    /// `PATCH /admin/identities/{id}` (a JSON Patch).
    PatchIdentity => Identity, Envelope;
    /// `DELETE /admin/identities/{id}/credentials/{type}`.
    DeleteIdentityCredentials => (), Envelope;
    /// `GET /admin/identities/by/external/{external_id}`.
    GetIdentityByExternalId => Identity, Envelope;
    /// `PATCH /admin/identities` (batch create).
    BatchPatchIdentities => BatchPatchIdentitiesResponse, Envelope;
    /// `GET /admin/identities/{id}/lock` (Sesame's own).
    GetIdentityLock => IdentityLock, Envelope;
    /// `DELETE /admin/identities/{id}/lock` (Sesame's own).
    UnlockIdentity => (), Envelope;
    /// `GET /sessions`: the caller's other active sessions.
    ListMySessions => Vec<Session>, Whoami;
    /// `DELETE /sessions`: revokes the caller's other sessions.
    DisableMyOtherSessions => DeleteMySessionsCount, Whoami;
    /// `DELETE /sessions/{id}`: revokes one of the caller's other sessions.
    DisableMySession => (), Whoami;
    /// `GET /admin/sessions`.
    ListSessions => Vec<Session>, Envelope;
    /// `GET /admin/sessions/{id}`.
    GetSession => Session, Envelope;
    /// `DELETE /admin/sessions/{id}` (deactivates).
    DisableSession => (), Envelope;
    /// `PATCH /admin/sessions/{id}/extend`: the session, or `None` when the server answers 204
    /// (`feature_flags.faster_session_extend`).
    ExtendSession => Option<Session>, Envelope;
    /// `GET /admin/identities/{id}/sessions`.
    ListIdentitySessions => Vec<Session>, Envelope;
    /// `DELETE /admin/identities/{id}/sessions`.
    DeleteIdentitySessions => (), Envelope;
    /// `POST /admin/sessions` (bulk disable or delete).
    ManageSessions => ManageSessionsResponse, Envelope;
}
