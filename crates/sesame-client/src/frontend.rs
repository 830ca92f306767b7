//! The public API's self-service calls: login, registration, logout, schemas and health, as
//! request builders; plus [`Client::login_with_password`].

use crate::client::Client;
use crate::endpoint::{Request, browser_cookie, session_credentials};
use crate::endpoints::{
    CreateBrowserLoginFlow, CreateBrowserLogoutFlow, CreateBrowserRegistrationFlow,
    CreateNativeLoginFlow, CreateNativeRegistrationFlow, GetIdentitySchema, GetLoginFlow,
    GetRegistrationFlow, IsAlive, IsReady, ListIdentitySchemas, PerformNativeLogout,
    UpdateLoginFlow, UpdateLogoutFlow, UpdateRegistrationFlow,
};
use crate::error::Error;
use crate::response::Response;
use http::Method;
use sesame_types::{
    Aal, PerformNativeLogoutBody, SuccessfulNativeLogin, UpdateLoginFlowBody,
    UpdateRegistrationFlowBody,
};
use uuid::Uuid;

/// Percent-encodes one path segment (ids chosen by operators, e.g. schema ids).
pub(crate) fn segment(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Client {
    /// `GET /self-service/login/api`: a login flow for a native app (no cookies, no CSRF).
    pub fn create_native_login_flow(&self) -> Request<CreateNativeLoginFlow> {
        Request::new(self, Method::GET, self.public("/self-service/login/api"))
    }

    /// `GET /self-service/login/browser`, answered as JSON: a login flow for a browser, with the
    /// anti-CSRF cookie in the response's `Set-Cookie` (forward it to the browser).
    pub fn create_browser_login_flow(&self) -> Request<CreateBrowserLoginFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/login/browser"),
        )
    }

    /// `GET /self-service/login/flows?id=`: a login flow as it stands (browser flows need the
    /// browser's cookie).
    pub fn get_login_flow(&self, id: Uuid) -> Request<GetLoginFlow> {
        Request::new(self, Method::GET, self.public("/self-service/login/flows"))
            .with(|c| c.query("id", &id.to_string()))
    }

    /// `POST /self-service/login?flow=`: submits a login. A refused form fails with
    /// [`ErrorKind::LoginRejected`](crate::ErrorKind::LoginRejected), carrying the flow and its
    /// messages.
    pub fn update_login_flow(
        &self,
        flow: Uuid,
        body: &UpdateLoginFlowBody,
    ) -> Request<UpdateLoginFlow> {
        Request::new(self, Method::POST, self.public("/self-service/login")).with(|c| {
            c.query("flow", &flow.to_string());
            c.json(body);
        })
    }

    /// A native app's password login in one call: creates an API login flow and submits
    /// `identifier` and `password` to it. The answer carries the session token and the session.
    ///
    /// Use [`create_native_login_flow`](Client::create_native_login_flow) and
    /// [`update_login_flow`](Client::update_login_flow) for per-request options.
    pub async fn login_with_password(
        &self,
        identifier: &str,
        password: &str,
    ) -> Result<Response<SuccessfulNativeLogin>, Error> {
        let flow = self.create_native_login_flow().send().await?;
        self.update_login_flow(
            flow.data.id,
            &UpdateLoginFlowBody::password(identifier, password),
        )
        .send()
        .await
    }

    /// `GET /self-service/registration/api`: a registration flow for a native app.
    pub fn create_native_registration_flow(&self) -> Request<CreateNativeRegistrationFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/registration/api"),
        )
    }

    /// `GET /self-service/registration/browser`, answered as JSON, with the anti-CSRF cookie in
    /// `Set-Cookie`.
    pub fn create_browser_registration_flow(&self) -> Request<CreateBrowserRegistrationFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/registration/browser"),
        )
    }

    /// `GET /self-service/registration/flows?id=`.
    pub fn get_registration_flow(&self, id: Uuid) -> Request<GetRegistrationFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/registration/flows"),
        )
        .with(|c| c.query("id", &id.to_string()))
    }

    /// `POST /self-service/registration?flow=`: submits a registration. A refused form fails with
    /// [`ErrorKind::RegistrationRejected`](crate::ErrorKind::RegistrationRejected).
    pub fn update_registration_flow(
        &self,
        flow: Uuid,
        body: &UpdateRegistrationFlowBody,
    ) -> Request<UpdateRegistrationFlow> {
        Request::new(
            self,
            Method::POST,
            self.public("/self-service/registration"),
        )
        .with(|c| {
            c.query("flow", &flow.to_string());
            c.json(body);
        })
    }

    /// `DELETE /self-service/logout/api`: ends a native app's session (204).
    pub fn perform_native_logout(&self, session_token: &str) -> Request<PerformNativeLogout> {
        let body = PerformNativeLogoutBody {
            session_token: session_token.to_owned(),
        };
        Request::new(
            self,
            Method::DELETE,
            self.public("/self-service/logout/api"),
        )
        .with(|c| c.json(&body))
    }

    /// `GET /self-service/logout/browser`: the logout URL and token of the browser's session
    /// (give it the browser's [`cookie`](Request::<CreateBrowserLogoutFlow>::cookie)).
    pub fn create_browser_logout_flow(&self) -> Request<CreateBrowserLogoutFlow> {
        Request::new(
            self,
            Method::GET,
            self.public("/self-service/logout/browser"),
        )
    }

    /// `GET /self-service/logout?token=`: ends the browser session the token belongs to; answers
    /// 204 with the cookie-clearing `Set-Cookie` headers to forward.
    pub fn update_logout_flow(&self, logout_token: &str) -> Request<UpdateLogoutFlow> {
        Request::new(self, Method::GET, self.public("/self-service/logout"))
            .with(|c| c.query("token", logout_token))
    }

    /// `GET /schemas`: the identity schemas, one page.
    pub fn list_identity_schemas(&self) -> Request<ListIdentitySchemas> {
        Request::new(self, Method::GET, self.public("/schemas"))
    }

    /// `GET /schemas/{id}`: one identity schema (the JSON Schema document).
    pub fn get_identity_schema(&self, id: &str) -> Request<GetIdentitySchema> {
        let url = self.public(&format!("/schemas/{}", segment(id)));
        Request::new(self, Method::GET, url)
    }

    /// `GET /health/alive` on the public API: the process is up.
    pub fn is_alive(&self) -> Request<IsAlive> {
        Request::new(self, Method::GET, self.public("/health/alive"))
    }

    /// `GET /health/ready` on the public API: the database answers (503 otherwise).
    pub fn is_ready(&self) -> Request<IsReady> {
        Request::new(self, Method::GET, self.public("/health/ready"))
    }
}

// Calls on which an existing session matters (refresh, step-up, `session_already_available`).
session_credentials!(
    CreateNativeLoginFlow,
    UpdateLoginFlow,
    CreateNativeRegistrationFlow,
    UpdateRegistrationFlow,
    CreateBrowserLogoutFlow
);
browser_cookie!(
    CreateBrowserLoginFlow,
    GetLoginFlow,
    CreateBrowserRegistrationFlow,
    GetRegistrationFlow,
    UpdateLogoutFlow,
);

/// Options of login flow creation: `refresh`, `aal`, `return_to`.
macro_rules! login_flow_options {
    ($($name:ty),*) => {
        $(
            impl Request<$name> {
                /// Re-authenticate an existing session (its credentials are sent along).
                pub fn refresh(self, refresh: bool) -> Self {
                    self.with(|c| c.query("refresh", if refresh { "true" } else { "false" }))
                }

                /// The assurance level to reach: `Aal2` asks the session for its second factor.
                pub fn aal(self, aal: Aal) -> Self {
                    self.with(|c| c.query("aal", aal.as_str()))
                }

                /// Where the browser goes after success (must be an allowed return URL).
                pub fn return_to(self, url: &str) -> Self {
                    self.with(|c| c.query("return_to", url))
                }
            }
        )*
    };
}
login_flow_options!(CreateNativeLoginFlow, CreateBrowserLoginFlow);

/// The `return_to` option of flows that redirect a browser when done.
macro_rules! return_to_option {
    ($($name:ty),*) => {
        $(
            impl Request<$name> {
                /// Where the browser goes after success (must be an allowed return URL).
                pub fn return_to(self, url: &str) -> Self {
                    self.with(|c| c.query("return_to", url))
                }
            }
        )*
    };
}
return_to_option!(
    CreateNativeRegistrationFlow,
    CreateBrowserRegistrationFlow,
    CreateBrowserLogoutFlow,
    UpdateLogoutFlow
);

/// Pagination of `GET /schemas`.
impl Request<ListIdentitySchemas> {
    /// The page number, from 0.
    pub fn page(self, page: u32) -> Self {
        self.with(|c| c.query("page", &page.to_string()))
    }

    /// Items per page (1–1000, 250 by default).
    pub fn per_page(self, per_page: u32) -> Self {
        self.with(|c| c.query("per_page", &per_page.to_string()))
    }
}
