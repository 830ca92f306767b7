//! Native logout: `DELETE /self-service/logout/api` with `{"session_token": "…"}`.

use super::core_err;
use crate::error::ApiError;
use crate::extract::read_body;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::delete;
use serde_json::Value;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/self-service/logout/api", delete(logout_api))
}

/// Possession of the token is the credential; an unknown or missing token is a 403 as in Kratos.
async fn logout_api(State(state): State<AppState>, req: Request) -> Result<StatusCode, ApiError> {
    let bytes = read_body(req, &()).await?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request_message(format!("unable to decode JSON payload: {e}"))
    })?;
    let token = body
        .get("session_token")
        .and_then(Value::as_str)
        .unwrap_or("");
    state
        .sessions
        .logout_native(token, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}
