//! A user's own sessions (spec §4.6): `GET /sessions` (the others, active, newest first),
//! `DELETE /sessions` (revoke the others) and `DELETE /sessions/{id}`. Credentials are found as
//! whoami finds them; `DELETE /sessions/whoami` is whoami's own route.

use super::core_err;
use crate::error::ApiError;
use crate::extract::{Path, RequestToken, query};
use crate::json::Json;
use crate::pagination::{Kept, PageRequest, page_headers};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use sesame_types::DeleteMySessionsCount;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list).delete(revoke_others))
        .route("/sessions/{id}", delete(revoke_one))
}

/// `listMySessions`: page pagination with `X-Total-Count` and `Link`.
async fn list(
    State(state): State<AppState>,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    let params = query(&uri);
    let page = PageRequest::parse(&params);
    let found = state
        .sessions
        .list_mine(token.get(), page.offset(), page.per_page, state.now())
        .await
        .map_err(core_err(&state))?;
    let mut res = Json(found.items).into_response();
    page_headers(
        res.headers_mut(),
        "/sessions",
        Kept::none(),
        &page,
        found.total,
    );
    Ok(res)
}

/// `disableMyOtherSessions`: 200 `{"count": N}`.
async fn revoke_others(
    State(state): State<AppState>,
    token: RequestToken,
) -> Result<Json<DeleteMySessionsCount>, ApiError> {
    let count = state
        .sessions
        .revoke_others(token.get(), state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(DeleteMySessionsCount {
        count: i64::try_from(count).unwrap_or(i64::MAX),
    }))
}

/// `disableMySession`: 204, also for ids that are unknown, foreign or revoked already.
async fn revoke_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    token: RequestToken,
) -> Result<StatusCode, ApiError> {
    state
        .sessions
        .revoke_mine(token.get(), &id, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}
