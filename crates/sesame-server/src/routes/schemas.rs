//! `GET /schemas` and `GET /schemas/{id}`.

use crate::error::ApiError;
use crate::extract::{Path, query_param};
use crate::json::{Json, response};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sesame_types::IdentitySchemaContainer;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schemas", get(list))
        .route("/schemas/{id}", get(one))
}

async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let per_page = match query_param(&uri, "per_page").or_else(|| query_param(&uri, "page_size")) {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request_message("could not parse parameter per_page"))?,
        None => 250,
    }
    .clamp(1, 1000);
    let page = match query_param(&uri, "page") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request_message("could not parse parameter page"))?,
        None => 0,
    };
    let all = state.deps.schemas.all();
    let items: Vec<IdentitySchemaContainer> = all
        .iter()
        .skip(page.saturating_mul(per_page))
        .take(per_page)
        .map(|s| IdentitySchemaContainer {
            id: s.id.clone(),
            schema: s.raw.clone(),
        })
        .collect();
    let mut res = Json(items).into_response();
    if let Ok(total) = HeaderValue::from_str(&all.len().to_string()) {
        res.headers_mut().insert("x-total-count", total);
    }
    let first = format!("</schemas?page=0&per_page={per_page}>; rel=\"first\"");
    if let Ok(link) = HeaderValue::from_str(&first) {
        res.headers_mut().insert("link", link);
    }
    Ok(res)
}

async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match state.deps.schemas.find(&id) {
        Some(schema) => Ok(response(StatusCode::OK, &schema.raw)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            None,
            Some(format!("Identity schema `{id}` could not be found.")),
            None,
        )),
    }
}
