//! Native (API) login flows: init, fetch, submit.

use super::core_err;
use crate::error::ApiError;
use crate::extract::{
    Client, RequestToken, SubmitBody, browser_header_reason, query_param, request_url,
};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use sesame_core::FlowId;
use sesame_core::aal::Aal;
use sesame_core::services::LoginInit;
use sesame_types::{FlowType, LoginFlow, SuccessfulNativeLogin};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/self-service/login/api", get(init_api))
        .route("/self-service/login/flows", get(get_flow))
        .route("/self-service/login", axum::routing::post(submit))
}

/// Parses `aal=` as Kratos does.
pub fn parse_aal(uri: &Uri) -> Result<Aal, ApiError> {
    match query_param(uri, "aal").as_deref() {
        None | Some("") | Some("aal1") => Ok(Aal::Aal1),
        Some("aal2") => Ok(Aal::Aal2),
        Some("aal3") => Ok(Aal::Aal3),
        Some(other) => Err(ApiError::bad_request(format!(
            "Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1, aal2, aal3] but got {other}"
        ))),
    }
}

/// The `flow` (submit) or `id` (fetch) query parameter as a flow id.
pub fn flow_id(uri: &Uri, name: &str) -> Result<FlowId, ApiError> {
    query_param(uri, name)
        .and_then(|v| FlowId::parse(&v).ok())
        .ok_or_else(|| ApiError::bad_request("The flow query parameter is missing or malformed."))
}

async fn init_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<LoginFlow>, ApiError> {
    let init = LoginInit {
        flow_type: FlowType::Api,
        request_url: request_url(&state, &headers, &uri),
        refresh: query_param(&uri, "refresh").as_deref() == Some("true"),
        aal: parse_aal(&uri)?,
        return_to: query_param(&uri, "return_to").filter(|s| !s.is_empty()),
    };
    let flow = state
        .login
        .init(init, token.get(), state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(flow))
}

async fn get_flow(State(state): State<AppState>, uri: Uri) -> Result<Json<LoginFlow>, ApiError> {
    let id = flow_id(&uri, "id")?;
    let flow = state
        .login
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
) -> Result<Json<SuccessfulNativeLogin>, ApiError> {
    let id = flow_id(&uri, "flow")?;
    let done = state
        .login
        .submit(
            id,
            body,
            token.get(),
            browser_header_reason(&headers),
            &client,
            state.now(),
        )
        .await
        .map_err(core_err(&state))?;
    Ok(Json(done))
}
