//! `/sessions/whoami` (the SDKs' `toSession`): the hot path. Thin by design; see DESIGN.md.

use super::core_err;
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
    let mut res = Json(state.sessions.into_wire(answer, now)).into_response();
    if let Ok(id) = identity_id {
        res.headers_mut()
            .insert("x-kratos-authenticated-identity-id", id);
    }
    Ok(res)
}
