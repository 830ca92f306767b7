//! Routers: each module owns its routes; [`public`] and [`admin`] only merge them and add layers.

pub mod admin_sessions;
pub mod health;
pub mod identities;
mod identity_list;
pub mod identity_lock;
pub mod login;
pub mod logout;
pub mod metrics;
pub mod my_sessions;
pub mod redirects;
pub mod registration;
pub mod schemas;
pub mod sessions;
pub mod settings;
pub mod ui;

use crate::cors::{self, CorsPolicy};
use crate::error::ApiError;
use crate::metrics::Port;
use crate::middleware;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::sync::Arc;

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

fn layered(router: Router<AppState>, state: AppState, port: Port) -> Router {
    let observer = crate::metrics::Observer::new(state.metrics.clone(), port);
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn(middleware::common))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            observer,
            crate::access_log::log_request,
        ))
        .with_state(state)
}

/// The public router (port 4433), with CORS when `serve.public.cors.enabled`.
pub fn public(state: AppState, cors: Option<Arc<CorsPolicy>>) -> Router {
    let router = Router::new()
        .merge(sessions::router())
        .merge(my_sessions::router())
        .merge(login::router())
        .merge(registration::router())
        .merge(settings::router())
        .merge(logout::router())
        .merge(schemas::router())
        .merge(health::router())
        .merge(ui::router())
        .merge(redirects::public_router());
    let app = layered(router, state, Port::Public)
        .layer(axum::middleware::from_fn(middleware::vary_cookie));
    // Outermost, like Kratos's rs/cors handler: preflights are answered before routing (unknown
    // paths included), and no inner layer can drop the headers. Absent when disabled.
    match cors {
        Some(policy) => cors::install(app, policy),
        None => app,
    }
}

/// The admin router (port 4434); every path lives under `/admin` (see `middleware::admin_prefix`).
pub fn admin(state: AppState) -> Router {
    let router = Router::new()
        .merge(identities::router())
        .merge(identity_lock::router())
        .merge(admin_sessions::router())
        .merge(health::admin_router())
        .merge(metrics::admin_router())
        .merge(redirects::admin_router());
    layered(router, state, Port::Admin)
}

/// Maps a domain error with the state's public base URL.
pub fn core_err(state: &AppState) -> impl Fn(sesame_core::CoreError) -> ApiError + '_ {
    move |e| ApiError::from_core(e, &state.public_base_url)
}

/// The answer to a failed flow submit. API flows and JSON requests get the error (or the flow with
/// its messages) as JSON; HTML form posts of browser flows are sent back to the UI (`status`: 303
/// for login, 302 for registration, as in Kratos) to show the flow's messages, or to the flow that
/// replaces an expired one (303 for both, as in Kratos).
pub fn browser_flow_error(
    state: &AppState,
    e: sesame_core::CoreError,
    json: bool,
    ui: &str,
    status: axum::http::StatusCode,
) -> ApiError {
    use crate::browser::respond;
    use sesame_core::CoreError;
    use sesame_types::FlowType;
    if json {
        return core_err(state)(e);
    }
    match e {
        CoreError::FlowInvalid(flow) if flow.flow_type() == FlowType::Browser => {
            ApiError::Redirect(respond::flow_url(ui, flow.id()), status)
        }
        CoreError::FlowExpired {
            replacement,
            flow_type: FlowType::Browser,
            ..
        } => ApiError::Redirect(respond::flow_url(ui, replacement), StatusCode::SEE_OTHER),
        // A refused form post cannot show a flow: the browser goes to the error page instead.
        CoreError::Csrf(_) => ApiError::Redirect(
            format!("{}?error=security_csrf_violation", state.browser.error_ui),
            StatusCode::SEE_OTHER,
        ),
        // So does an attempt the limiter refused: the page says to wait, or that the account is
        // locked (JSON clients get the 429 or 403 itself).
        CoreError::TooManyAttempts { .. } => ApiError::Redirect(
            format!(
                "{}?error=security_too_many_attempts",
                state.browser.error_ui
            ),
            StatusCode::SEE_OTHER,
        ),
        CoreError::IdentityLocked => ApiError::Redirect(
            format!("{}?error=identity_locked", state.browser.error_ui),
            StatusCode::SEE_OTHER,
        ),
        other => core_err(state)(other),
    }
}

/// The anti-CSRF token a new browser flow is bound to: the request's cookie if it has a valid one,
/// else a new token with the `Set-Cookie` that hands it out.
pub fn flow_csrf(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> (String, Option<axum::http::HeaderValue>) {
    match crate::extract::csrf_cookie(state, headers) {
        Some(existing) => (existing, None),
        None => crate::browser::respond::new_csrf_cookie(state, now),
    }
}

/// Answers a browser flow init: the flow as JSON for single-page apps, else a 303 to the UI; a
/// browser that is already signed in is sent on to `return_to` or the default return URL. A new
/// anti-CSRF cookie is set on every answer.
pub fn browser_init_answer<F: serde::Serialize>(
    state: &AppState,
    created: Result<(F, uuid::Uuid), sesame_core::CoreError>,
    json: bool,
    ui: &str,
    return_to: Option<&str>,
    set_csrf: Option<axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    use crate::browser::respond;
    use axum::http::StatusCode;
    let mut res = match created {
        Ok((flow, _)) if json => crate::json::Json(flow).into_response(),
        Ok((_, id)) => respond::redirect(StatusCode::SEE_OTHER, &respond::flow_url(ui, id)),
        Err(sesame_core::CoreError::SessionAlreadyAvailable { .. }) if !json => respond::redirect(
            StatusCode::SEE_OTHER,
            return_to.unwrap_or(&state.browser.default_return),
        ),
        Err(e) => return Err(core_err(state)(e)),
    };
    respond::set_cookie(&mut res, set_csrf);
    Ok(res)
}
