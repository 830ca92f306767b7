//! The settings flow: a signed-in identity changes its profile, password and second factors.

use crate::client::Client;
use crate::endpoint::{Request, session_credentials};
use crate::endpoints::{
    CreateBrowserSettingsFlow, CreateNativeSettingsFlow, GetSettingsFlow, UpdateSettingsFlow,
};
use http::Method;
use sesame_types::UpdateSettingsFlowBody;
use uuid::Uuid;

impl Client {
    /// `GET /self-service/settings/api`: a settings flow for a native app's session (give it the
    /// [`x_session_token`](Request::<CreateNativeSettingsFlow>::x_session_token)).
    pub fn create_native_settings_flow(&self) -> Request<CreateNativeSettingsFlow> {
        Request::new(self, Method::GET, self.public("/self-service/settings/api"))
    }

    /// `GET /self-service/settings/browser`, answered as JSON, for the browser whose
    /// [`cookie`](Request::<CreateBrowserSettingsFlow>::cookie) is forwarded.
    pub fn create_browser_settings_flow(&self) -> Request<CreateBrowserSettingsFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/settings/browser"),
        )
    }

    /// `GET /self-service/settings/flows?id=`: the flow, for a session of its identity.
    pub fn get_settings_flow(&self, id: Uuid) -> Request<GetSettingsFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/settings/flows"),
        )
        .with(|c| c.query("id", &id.to_string()))
    }

    /// `POST /self-service/settings?flow=`: saves a change. A refused form fails with
    /// [`ErrorKind::SettingsRejected`](crate::ErrorKind::SettingsRejected); a session too old to
    /// change credentials with the `session_refresh_required` API error (sign in again with
    /// `refresh`, then resubmit).
    pub fn update_settings_flow(
        &self,
        flow: Uuid,
        body: &UpdateSettingsFlowBody,
    ) -> Request<UpdateSettingsFlow> {
        Request::new(self, Method::POST, self.public("/self-service/settings")).with(|c| {
            c.query("flow", &flow.to_string());
            c.json(body);
        })
    }
}

session_credentials!(
    CreateNativeSettingsFlow,
    CreateBrowserSettingsFlow,
    GetSettingsFlow,
    UpdateSettingsFlow
);

impl Request<CreateBrowserSettingsFlow> {
    /// Where the browser goes after a successful change (must be an allowed return URL).
    pub fn return_to(self, url: &str) -> Self {
        self.with(|c| c.query("return_to", url))
    }
}
