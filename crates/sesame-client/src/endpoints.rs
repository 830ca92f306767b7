//! The marker type of every operation, named as Ory's SDKs name them. `Client`'s methods return
//! `Request<Marker>`; the marker decides the answer type and the options the request offers.

use crate::endpoint::endpoints;
use serde_json::Value;
use sesame_types::{
    HealthStatus, Identity, IdentitySchemaContainer, LoginFlow, LogoutFlow, RegistrationFlow,
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
}
