//! Cross-port redirects (307, query kept): admin paths asked on the public port go to the admin
//! port, and public paths asked on the admin port go to the public port, as Kratos does.

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete};

/// Public-port routes that belong to the admin port.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/admin/{*rest}", any(to_admin))
        .route("/identities", any(to_admin))
        .route("/identities/{*rest}", any(to_admin))
}

/// Admin-port routes that belong to the public port.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/admin/sessions/whoami", any(to_public))
        // `DELETE /admin/sessions` (no id) is the public `DELETE /sessions`.
        .route("/admin/sessions", delete(to_public))
        .route("/admin/self-service/{*rest}", any(to_public))
        .route("/admin/schemas", any(to_public))
        .route("/admin/schemas/{*rest}", any(to_public))
}

fn redirect(base: &str, path: &str, uri: &Uri) -> Response {
    let mut location = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    if let Some(q) = uri.query() {
        location.push('?');
        location.push_str(q);
    }
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn to_admin(State(state): State<AppState>, uri: Uri) -> Response {
    let path = uri.path();
    let path = if path.starts_with("/admin/") {
        path.to_owned()
    } else {
        format!("/admin{path}")
    };
    redirect(&state.admin_base_url, &path, &uri)
}

async fn to_public(State(state): State<AppState>, uri: Uri) -> Response {
    let path = uri
        .path()
        .strip_prefix("/admin")
        .unwrap_or(uri.path())
        .to_owned();
    redirect(&state.public_base_url, &path, &uri)
}
