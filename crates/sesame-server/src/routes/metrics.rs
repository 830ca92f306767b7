//! `GET /admin/metrics` and Kratos's `GET /admin/metrics/prometheus` (also `/metrics` and
//! `/metrics/prometheus` through the admin prefix): the Prometheus metrics, on the admin port only.

use crate::error::ApiError;
use crate::metrics::Format;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Admin routes.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/admin/metrics", get(metrics))
        .route("/admin/metrics/prometheus", get(metrics))
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let format = Format::for_accept(headers.get(header::ACCEPT));
    let text = state
        .metrics
        .encode(format)
        .map_err(|e| ApiError::internal(format!("cannot encode the metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        text,
    )
        .into_response())
}
