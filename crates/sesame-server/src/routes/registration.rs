//! Native (API) registration flows: init, fetch, submit.

use super::core_err;
use super::login::flow_id;
use crate::error::ApiError;
use crate::extract::{
    Client, RequestToken, SubmitBody, browser_header_reason, query_param, request_url,
};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use sesame_types::{ContinueWith, FlowType, RegistrationFlow, SuccessfulNativeRegistration};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/self-service/registration/api", get(init_api))
        .route("/self-service/registration/flows", get(get_flow))
        .route("/self-service/registration", post(submit))
}

async fn init_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<RegistrationFlow>, ApiError> {
    let return_to = query_param(&uri, "return_to").filter(|s| !s.is_empty());
    let flow = state
        .registration
        .init(
            FlowType::Api,
            request_url(&state, &headers, &uri),
            return_to,
            token.get(),
            state.now(),
        )
        .await
        .map_err(core_err(&state))?;
    Ok(Json(flow))
}

async fn get_flow(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<RegistrationFlow>, ApiError> {
    let id = flow_id(&uri, "id")?;
    let flow = state
        .registration
        .get(id, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(flow))
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
    Client(client): Client,
    SubmitBody(body): SubmitBody,
) -> Result<Json<SuccessfulNativeRegistration>, ApiError> {
    let id = flow_id(&uri, "flow")?;
    let now = state.now();
    let done = state
        .registration
        .submit(
            id,
            body,
            token.get(),
            browser_header_reason(&headers),
            &client,
            now,
        )
        .await
        .map_err(core_err(&state))?;
    let identity = state.registration.identity_wire(&done.identity);
    Ok(Json(match &done.token {
        Some(token) => SuccessfulNativeRegistration {
            session_token: Some(token.expose().to_owned()),
            session: Some(state.registration.session_wire(&done, now)),
            identity,
            continue_with: Some(vec![ContinueWith::SetOrySessionToken {
                ory_session_token: token.expose().to_owned(),
            }]),
        },
        None => SuccessfulNativeRegistration {
            session_token: None,
            session: None,
            identity,
            continue_with: None,
        },
    }))
}
