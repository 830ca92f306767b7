//! Sesame's own admin endpoints for throttled guessing (Kratos has none): `GET
//! /admin/identities/{id}/lock` shows whether an identity is locked after too many failed attempts
//! and its failed-attempt counts; `DELETE` lifts the lock and forgets the failures (204).

use super::core_err;
use crate::error::ApiError;
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use sesame_core::IdentityId;
use sesame_types::IdentityLock;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/identities/{id}/lock", get(show).delete(unlock))
}

/// 404 for an id that is not a UUID, as the other identity routes answer.
fn identity_id(raw: &str) -> Result<IdentityId, ApiError> {
    IdentityId::parse(raw).map_err(|_| ApiError::not_found())
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IdentityLock>, ApiError> {
    let id = identity_id(&id)?;
    let lock = state
        .identities
        .lock(id, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(lock))
}

async fn unlock(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = identity_id(&id)?;
    state
        .identities
        .unlock(id, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}
