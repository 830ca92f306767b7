//! Logout: native (`DELETE /self-service/logout/api` with the token in the body) and browser
//! (`GET /self-service/logout/browser` for the URL, `GET /self-service/logout?token=` to end it).

use super::core_err;
use super::login::return_to;
use crate::browser::{is_json_request, respond};
use crate::error::ApiError;
use crate::extract::{RequestToken, query_param, read_body};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::Value;
use sesame_types::LogoutFlow;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/self-service/logout/api", delete(logout_api))
        .route("/self-service/logout/browser", get(logout_url))
        .route("/self-service/logout", get(logout_browser))
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

/// The logout URL of the request's session (cookie or token).
async fn logout_url(
    State(state): State<AppState>,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<LogoutFlow>, ApiError> {
    let return_to = return_to(&state, &uri)?;
    let logout_token = state
        .sessions
        .logout_token(token.get(), state.now())
        .await
        .map_err(core_err(&state))?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(r) = &return_to {
        query.append_pair("return_to", r);
    }
    query.append_pair("token", logout_token.expose());
    Ok(Json(LogoutFlow {
        logout_url: format!(
            "{}self-service/logout?{}",
            state.public_base_url,
            query.finish()
        ),
        logout_token: logout_token.expose().to_owned(),
    }))
}

/// Ends the request's session when the logout token is its own, clears the cookie and rotates the
/// anti-CSRF token; 204 for JSON requests, else 303 to `return_to` or the after-logout URL.
async fn logout_browser(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    let now = state.now();
    let Some(logout_token) = query_param(&uri, "token").filter(|t| !t.is_empty()) else {
        return Err(ApiError::bad_request(
            "Please include a token in the URL query.",
        ));
    };
    let return_to = return_to(&state, &uri)?;
    state
        .sessions
        .logout_browser(token.get(), &logout_token, now)
        .await
        .map_err(core_err(&state))?;
    let mut res = if is_json_request(&headers) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        respond::redirect(
            StatusCode::SEE_OTHER,
            return_to.as_deref().unwrap_or(&state.browser.logout_return),
        )
    };
    respond::set_cookie(&mut res, respond::clear_session_cookie(&state, now));
    respond::set_cookie(&mut res, respond::new_csrf_cookie(&state, now).1);
    Ok(res)
}
