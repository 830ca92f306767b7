//! Session management: a user's own sessions on the public API (`list_my_sessions`,
//! `disable_my_other_sessions`, `disable_my_session`) and the admin session API (`list_sessions`,
//! `get_session`, `disable_session`, `extend_session`, `list_identity_sessions`,
//! `delete_identity_sessions`, `manage_sessions`).

use crate::client::Client;
use crate::endpoint::{Request, session_credentials};
use crate::endpoints::{
    DeleteIdentitySessions, DisableMyOtherSessions, DisableMySession, DisableSession,
    ExtendSession, GetSession, ListIdentitySessions, ListMySessions, ListSessions, ManageSessions,
};
use http::Method;
use sesame_types::ManageSessionsBody;
use uuid::Uuid;

impl Client {
    /// `GET /sessions`: the caller's *other* active sessions, newest first, with identity and
    /// devices (give it the caller's [`x_session_token`](Request::<ListMySessions>::x_session_token)
    /// or [`cookie`](Request::<ListMySessions>::cookie)). The response's `X-Total-Count` and
    /// `Link` header ([`Response::link`](crate::Response::link)) describe the pages. Fails with
    /// `SessionInactive` without a session and `Aal2Required` when the session owes a second factor.
    pub fn list_my_sessions(&self) -> Request<ListMySessions> {
        Request::new(self, Method::GET, self.public("/sessions"))
    }

    /// `DELETE /sessions`: signs the caller out everywhere else; the answer's `count` is the
    /// number of other sessions (already revoked ones included, as in Kratos).
    pub fn disable_my_other_sessions(&self) -> Request<DisableMyOtherSessions> {
        Request::new(self, Method::DELETE, self.public("/sessions"))
    }

    /// `DELETE /sessions/{id}`: revokes one of the caller's other sessions (204; an id that is not
    /// the caller's changes nothing and is answered 204 too). The current session is a 400.
    pub fn disable_my_session(&self, id: Uuid) -> Request<DisableMySession> {
        Request::new(
            self,
            Method::DELETE,
            self.public(&format!("/sessions/{id}")),
        )
    }

    /// `GET /admin/sessions`: every session, newest first, one keyset page; page with
    /// [`page_size`](Request::<ListSessions>::page_size) and the response's
    /// [`next_page_token`](crate::Response::next_page_token).
    pub fn list_sessions(&self) -> Request<ListSessions> {
        self.admin_request(Method::GET, "/admin/sessions")
    }

    /// `GET /admin/sessions/{id}`: without [`expand`](Request::<GetSession>::expand), `identity` is
    /// `None` and `devices` empty.
    pub fn get_session(&self, id: Uuid) -> Request<GetSession> {
        self.admin_request(Method::GET, &format!("/admin/sessions/{id}"))
    }

    /// `DELETE /admin/sessions/{id}`: deactivates the session (204); its data stays.
    pub fn disable_session(&self, id: Uuid) -> Request<DisableSession> {
        self.admin_request(Method::DELETE, &format!("/admin/sessions/{id}"))
    }

    /// `PATCH /admin/sessions/{id}/extend`: the session lives another `session.lifespan` from now
    /// (unless it has more than `session.earliest_possible_extend` left). `Some(session)`, or
    /// `None` from a server with `feature_flags.faster_session_extend` (204).
    pub fn extend_session(&self, id: Uuid) -> Request<ExtendSession> {
        self.admin_request(Method::PATCH, &format!("/admin/sessions/{id}/extend"))
    }

    /// `GET /admin/identities/{id}/sessions`: the identity's sessions, newest first, with identity
    /// and devices; page pagination like [`list_my_sessions`](Client::list_my_sessions).
    pub fn list_identity_sessions(&self, id: Uuid) -> Request<ListIdentitySessions> {
        self.admin_request(Method::GET, &format!("/admin/identities/{id}/sessions"))
    }

    /// `DELETE /admin/identities/{id}/sessions`: deletes every session of the identity (204; 404
    /// when it has none, as in Kratos).
    pub fn delete_identity_sessions(&self, id: Uuid) -> Request<DeleteIdentitySessions> {
        self.admin_request(Method::DELETE, &format!("/admin/identities/{id}/sessions"))
    }

    /// `POST /admin/sessions`: disables or deletes sessions by identity or by id (at most 500), or
    /// every session with [`ManageSessionsBody::all`] — one batch per call, repeat while `more`.
    pub fn manage_sessions(&self, body: &ManageSessionsBody) -> Request<ManageSessions> {
        self.admin_request(Method::POST, "/admin/sessions")
            .with(|c| c.json(body))
    }
}

session_credentials!(ListMySessions, DisableMyOtherSessions, DisableMySession);

/// Page pagination options (`page`/`per_page`, or the `page_token`/`page_size` of a `Link`).
macro_rules! page_options {
    ($($name:ty),*) => {
        $(
            impl Request<$name> {
                /// The page, from 0.
                pub fn page(self, page: u32) -> Self {
                    self.with(|c| c.query("page", &page.to_string()))
                }

                /// Items per page (1–1000, 250 by default).
                pub fn per_page(self, per_page: u32) -> Self {
                    self.with(|c| c.query("per_page", &per_page.to_string()))
                }

                /// Items per page, with [`page_token`](Self::page_token).
                pub fn page_size(self, page_size: u32) -> Self {
                    self.with(|c| c.query("page_size", &page_size.to_string()))
                }

                /// The `page_token` of a `Link` entry of the previous response.
                pub fn page_token(self, token: &str) -> Self {
                    self.with(|c| c.query("page_token", token))
                }
            }
        )*
    };
}
page_options!(ListMySessions, ListIdentitySessions);

/// The `active` filter of admin listings.
macro_rules! active_option {
    ($($name:ty),*) => {
        $(
            impl Request<$name> {
                /// Only active sessions (`true`: not revoked and not expired) or only the others.
                pub fn active(self, active: bool) -> Self {
                    self.with(|c| c.query("active", if active { "true" } else { "false" }))
                }
            }
        )*
    };
}
active_option!(ListSessions, ListIdentitySessions);

/// The `expand` option of admin session reads.
macro_rules! expand_option {
    ($($name:ty),*) => {
        $(
            impl Request<$name> {
                /// Also shows `identity` or `devices` (call once per part).
                pub fn expand(self, part: &str) -> Self {
                    self.with(|c| c.query("expand", part))
                }
            }
        )*
    };
}
expand_option!(ListSessions, GetSession);

impl Request<ListSessions> {
    /// Items per page (1–1000, 250 by default).
    pub fn page_size(self, page_size: u32) -> Self {
        self.with(|c| c.query("page_size", &page_size.to_string()))
    }

    /// The page to fetch: the previous response's
    /// [`next_page_token`](crate::Response::next_page_token).
    pub fn page_token(self, token: &str) -> Self {
        self.with(|c| c.query("page_token", token))
    }
}
