//! The admin session API (spec §4.7, §4.8): `GET/POST /admin/sessions`,
//! `GET/DELETE /admin/sessions/{id}`, `PATCH /admin/sessions/{id}/extend`, and
//! `GET/DELETE /admin/identities/{id}/sessions`. (`/admin/sessions/whoami` and `DELETE
//! /admin/sessions` are redirects to the public port, see `redirects`.)

use super::core_err;
use crate::error::ApiError;
use crate::extract::{Path, StrictJson, query};
use crate::json::Json;
use crate::pagination::{Kept, PageRequest, keyset_headers, page_headers};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use sesame_core::services::{Expand, SessionCursor};
use sesame_core::{IdentityId, SessionId};
use sesame_types::{ManageSessionsBody, ManageSessionsResponse, Session};

/// `GET /admin/sessions`: 250 per page unless asked, at most 1000.
const DEFAULT_PAGE_SIZE: i64 = 250;
const MAX_PAGE_SIZE: i64 = 1000;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sessions", get(list).post(manage))
        .route("/admin/sessions/{id}", get(one).delete(disable))
        .route("/admin/sessions/{id}/extend", patch(extend))
        .route(
            "/admin/identities/{id}/sessions",
            get(identity_sessions).delete(delete_identity_sessions),
        )
}

/// A path id that is not a UUID: 400 with the parser's message, as Kratos answers here.
fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).map_err(|e| ApiError::bad_request_message(e.0))
}

fn identity_id(raw: &str) -> Result<IdentityId, ApiError> {
    IdentityId::parse(raw).map_err(|e| ApiError::bad_request_message(e.0))
}

fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `active`, parsed like Go's `strconv.ParseBool`; empty or absent: no filter.
fn active(params: &[(String, String)]) -> Result<Option<bool>, ApiError> {
    match first(params, "active").unwrap_or("") {
        "" => Ok(None),
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Some(true)),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Some(false)),
        _ => Err(ApiError::bad_request_message(
            "could not parse parameter active",
        )),
    }
}

/// Every `expand` value (`identity`, `devices`, any case).
fn expand(params: &[(String, String)]) -> Result<Expand, ApiError> {
    let mut expand = Expand::default();
    for (_, value) in params.iter().filter(|(k, _)| k == "expand") {
        expand.add(value).map_err(|bad| {
            ApiError::bad_request(format!("Could not parse expand option: {bad}"))
        })?;
    }
    Ok(expand)
}

/// `listSessions`: keyset pagination over `created_at DESC`.
async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let params = query(&uri);
    let active = active(&params)?;
    let page_size = match first(&params, "page_size").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request_message("could not parse parameter page_size"))?,
        None => DEFAULT_PAGE_SIZE,
    };
    let page_size = if page_size < 1 {
        DEFAULT_PAGE_SIZE
    } else {
        page_size.min(MAX_PAGE_SIZE)
    } as u32;
    let after = match first(&params, "page_token").filter(|t| !t.is_empty()) {
        Some(token) => Some(SessionCursor::parse(token).ok_or_else(|| {
            ApiError::bad_request("The page token is invalid, do not craft your own page tokens")
        })?),
        None => None,
    };
    let expand = expand(&params)?;
    let page = state
        .sessions
        .admin_list(active, expand, after, page_size, state.now())
        .await
        .map_err(core_err(&state))?;
    let next = page.next.map(|c| c.encode());
    let mut res = Json(page.items).into_response();
    keyset_headers(
        res.headers_mut(),
        "/admin/sessions",
        Kept::new(&params, &["active", "expand"]),
        page_size,
        &SessionCursor::first().encode(),
        next.as_deref(),
    );
    Ok(res)
}

/// `getSession`.
async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Session>, ApiError> {
    let id = session_id(&id)?;
    let expand = expand(&query(&uri))?;
    let session = state
        .sessions
        .admin_get(id, expand, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(session))
}

/// `disableSession`: deactivates (204).
async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&id)?;
    state
        .sessions
        .admin_disable(id, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `extendSession`: 200 with the session, or 204 with `feature_flags.faster_session_extend`.
async fn extend(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = session_id(&id)?;
    let session = state
        .sessions
        .admin_extend(id, state.now())
        .await
        .map_err(core_err(&state))?;
    if state.faster_session_extend {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(session).into_response())
}

/// `listIdentitySessions`: page pagination, identity and devices expanded.
async fn identity_sessions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let id = identity_id(&id)?;
    let params = query(&uri);
    let active = active(&params)?;
    let page = PageRequest::parse(&params);
    let found = state
        .sessions
        .identity_sessions(id, active, page.offset(), page.per_page, state.now())
        .await
        .map_err(core_err(&state))?;
    let mut res = Json(found.items).into_response();
    page_headers(
        res.headers_mut(),
        &format!("/admin/identities/{id}/sessions"),
        Kept::new(&params, &["active"]),
        &page,
        found.total,
    );
    Ok(res)
}

/// `deleteIdentitySessions`: deletes them (204); 404 when there were none, as in Kratos.
async fn delete_identity_sessions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = identity_id(&id)?;
    state
        .sessions
        .delete_identity_sessions(id)
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `manageSessions`: bulk disable or delete.
async fn manage(
    State(state): State<AppState>,
    StrictJson(body): StrictJson<ManageSessionsBody>,
) -> Result<Json<ManageSessionsResponse>, ApiError> {
    let done = state
        .sessions
        .manage(&body, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(done))
}
