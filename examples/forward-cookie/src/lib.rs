//! A small server-side app protected by Sesame, the way Ory's SDK documentation recommends for
//! server-rendered apps: every request's `Cookie` header is forwarded to
//! `GET <sesame>/sessions/whoami` — here by `sesame-client`'s axum guard (feature `axum`). An
//! active session lets the visitor in (and says who they are); anything else sends the browser to
//! Sesame's sign-in flow with `return_to` pointing back to the page they asked for.
//!
//! The app never parses Sesame's cookie: it only forwards it.

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use sesame_client::Client;
use sesame_client::guard::{CurrentSession, OnAal2, OnInactive, SessionGuard};

/// Where Sesame is, and where this app is.
#[derive(Debug, Clone)]
pub struct Sesame {
    /// Sesame's public base URL, e.g. `http://127.0.0.1:4433`.
    pub public_url: String,
    /// This app's own base URL, e.g. `http://127.0.0.1:4455`: `return_to` is this plus the path
    /// asked for.
    pub app_url: String,
}

/// The guard: whoami through the SDK, browsers without a session sent to sign in (and those
/// needing a second factor to Sesame's second-factor page).
pub fn guard(sesame: &Sesame) -> Result<SessionGuard, Box<dyn std::error::Error + Send + Sync>> {
    let public_url = sesame.public_url.trim_end_matches('/');
    let client = Client::builder(public_url).build()?;
    let guard = SessionGuard::builder(client)
        .on_inactive(OnInactive::RedirectToLogin {
            login_url: format!("{public_url}/self-service/login/browser"),
        })
        .return_to_base(&sesame.app_url)
        .on_aal2(OnAal2::Redirect)
        .build()?;
    Ok(guard)
}

/// The app: `/` is public, `/dashboard` needs a session.
pub fn app(sesame: Sesame) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let guard = guard(&sesame)?;
    Ok(Router::new()
        .route("/", get(home))
        .route("/dashboard", get(dashboard))
        // The `CurrentSession` extractor asks whoami through this guard, on the routes that use it.
        .layer(Extension(guard))
        .with_state(sesame))
}

async fn home(State(sesame): State<Sesame>) -> Html<String> {
    Html(format!(
        "<!doctype html><title>Example</title><p>Public page. <a href=\"/dashboard\">Dashboard</a> \
         (sign in at <a href=\"{}/self-service/login/browser\">Sesame</a>)</p>",
        escape(&sesame.public_url)
    ))
}

async fn dashboard(CurrentSession(session): CurrentSession) -> Html<String> {
    let identity = session.identity.as_ref();
    let email = identity
        .and_then(|identity| identity.traits["email"].as_str())
        .unwrap_or("?");
    let identity_id = identity.map(|identity| identity.id.to_string());
    Html(format!(
        "<!doctype html><title>Dashboard</title><p>Signed in as {} (identity {}).</p>",
        escape(email),
        escape(identity_id.as_deref().unwrap_or("?"))
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
