//! Routers: each module owns its routes; [`public`] and [`admin`] only merge them and add layers.

pub mod health;
pub mod identities;
pub mod login;
pub mod logout;
pub mod redirects;
pub mod registration;
pub mod schemas;
pub mod sessions;

use crate::error::ApiError;
use crate::middleware;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

/// Kratos answers 5 MiB at most on both ports.
pub const BODY_LIMIT: usize = 5 * 1024 * 1024;

/// Go's ServeMux answer to an unknown route, which Kratos clients see.
async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
}

fn layered(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn(middleware::request_id))
        .layer(axum::middleware::from_fn(middleware::no_cache_on_get))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::trace_layer())
        .with_state(state)
}

/// The public router (port 4433).
pub fn public(state: AppState) -> Router {
    let router = Router::new()
        .merge(sessions::router())
        .merge(login::router())
        .merge(registration::router())
        .merge(logout::router())
        .merge(schemas::router())
        .merge(health::router())
        .merge(redirects::public_router());
    layered(router, state)
}

/// The admin router (port 4434); every path lives under `/admin` (see `middleware::admin_prefix`).
pub fn admin(state: AppState) -> Router {
    let router = Router::new()
        .merge(identities::router())
        .merge(health::admin_router())
        .merge(redirects::admin_router());
    layered(router, state)
}

/// Maps a domain error with the state's public base URL.
pub fn core_err(state: &AppState) -> impl Fn(sesame_core::CoreError) -> ApiError + '_ {
    move |e| ApiError::from_core(e, &state.public_base_url)
}
