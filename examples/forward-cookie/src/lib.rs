//! A small server-side app protected by Sesame, the way Ory's SDK documentation recommends for
//! server-rendered apps: every request's `Cookie` header is forwarded to
//! `GET <sesame>/sessions/whoami`; a 200 means the visitor is signed in (and says who they are),
//! anything else sends the browser to Sesame's sign-in flow with `return_to` pointing back here.
//!
//! The app never parses Sesame's cookie: it only forwards it.

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::Value;

/// Where Sesame is and how to reach it.
#[derive(Clone)]
pub struct Sesame {
    /// Sesame's public base URL, e.g. `http://127.0.0.1:4433`.
    pub public_url: String,
    /// This app's own URL, for `return_to`.
    pub app_url: String,
    /// The HTTP client (kept to reuse connections).
    pub http: reqwest::Client,
}

/// The signed-in visitor, as whoami describes them.
pub struct Visitor {
    /// The identity id (`X-Kratos-Authenticated-Identity-Id`).
    pub identity_id: String,
    /// The whole session JSON.
    pub session: Value,
}

/// Why there is no visitor: not signed in (send to sign-in) or Sesame unreachable.
pub enum NoVisitor {
    /// Sign in first.
    SignIn(String),
    /// Sesame did not answer.
    Unavailable,
}

impl IntoResponse for NoVisitor {
    fn into_response(self) -> Response {
        match self {
            NoVisitor::SignIn(url) => Redirect::to(&url).into_response(),
            NoVisitor::Unavailable => (
                StatusCode::BAD_GATEWAY,
                "the sign-in service is unavailable",
            )
                .into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor
where
    Sesame: FromRef<S>,
{
    type Rejection = NoVisitor;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sesame = Sesame::from_ref(state);
        let sign_in = format!(
            "{}/self-service/login/browser?return_to={}",
            sesame.public_url.trim_end_matches('/'),
            sesame.app_url
        );
        // Forward the visitor's cookies as they are; Sesame picks its own session cookie out.
        let Some(cookie) = parts.headers.get(header::COOKIE).cloned() else {
            return Err(NoVisitor::SignIn(sign_in));
        };
        let res = sesame
            .http
            .get(format!(
                "{}/sessions/whoami",
                sesame.public_url.trim_end_matches('/')
            ))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .map_err(|_| NoVisitor::Unavailable)?;
        if res.status() != StatusCode::OK {
            return Err(NoVisitor::SignIn(sign_in));
        }
        let identity_id = res
            .headers()
            .get("x-kratos-authenticated-identity-id")
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let session = res.json().await.map_err(|_| NoVisitor::Unavailable)?;
        Ok(Visitor {
            identity_id,
            session,
        })
    }
}

/// The app: `/` is public, `/dashboard` needs a session.
pub fn app(sesame: Sesame) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/dashboard", get(dashboard))
        .with_state(sesame)
}

async fn home(State(sesame): State<Sesame>) -> Html<String> {
    Html(format!(
        "<!doctype html><title>Example</title><p>Public page. <a href=\"/dashboard\">Dashboard</a> \
         (sign in at <a href=\"{}/self-service/login/browser\">Sesame</a>)</p>",
        sesame.public_url
    ))
}

async fn dashboard(visitor: Visitor) -> Html<String> {
    let email = visitor.session["identity"]["traits"]["email"]
        .as_str()
        .unwrap_or("?");
    Html(format!(
        "<!doctype html><title>Dashboard</title><p>Signed in as {} (identity {}).</p>",
        escape(email),
        escape(&visitor.identity_id)
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
