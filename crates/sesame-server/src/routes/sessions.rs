//! `/sessions/whoami` (the SDKs' `toSession`): the hot path. Thin by design; see DESIGN.md.

use super::core_err;
use crate::browser::respond;
use crate::error::ApiError;
use crate::extract::{RequestToken, query_param};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/sessions/whoami", any(whoami))
}

/// Answers who the request belongs to.
async fn whoami(
    State(state): State<AppState>,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    if let Some(template) = query_param(&uri, "tokenize_as") {
        // No tokenizer templates can be configured yet, so every name is unknown.
        return Err(ApiError::bad_request(format!(
            "Unable to find tokenizer template \"{template}\"."
        )));
    }
    let now = state.now();
    let answer = state
        .sessions
        .whoami(token.get(), now)
        .await
        .map_err(core_err(&state))?;
    let identity_id = HeaderValue::from_str(&answer.identity.id.to_string());
    // §1.5: a session cookie whose recorded expiry is behind the session's (after an extension) is
    // re-issued for the session that was found.
    let refresh = match (&token.cookie, &token.token) {
        (Some(cookie), Some(t)) if cookie.expires_at < answer.session.expires_at => {
            respond::session_cookie(&state, t, answer.session.expires_at, now)
        }
        _ => None,
    };
    let mut res = Json(state.sessions.into_wire(answer, now)).into_response();
    if let Ok(id) = identity_id {
        res.headers_mut()
            .insert("x-kratos-authenticated-identity-id", id);
    }
    respond::set_cookie(&mut res, refresh);
    Ok(res)
}
