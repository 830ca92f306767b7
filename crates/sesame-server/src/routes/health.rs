//! `/health/alive`, `/health/ready` (both ports) and `/admin/version`.

use crate::error::{render, set_retry_after};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sesame_types::{ErrorEnvelope, GenericError, HealthStatus, Version};

/// Public health routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/alive", get(alive))
        .route("/health/ready", get(ready_public))
}

/// Admin health and version routes.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/admin/health/alive", get(alive))
        .route("/admin/health/ready", get(ready_admin))
        .route("/admin/version", get(version))
}

async fn alive() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "ok".into(),
    })
}

async fn ready(state: &AppState, obfuscate: bool) -> Response {
    match state.deps.store.ready().await {
        Ok(()) => Json(HealthStatus {
            status: "ok".into(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let message = if obfuscate {
                "error may contain sensitive information and was obfuscated".to_owned()
            } else {
                e.to_string()
            };
            // Kratos's body says 500 under its HTTP 503; Sesame's says what the status says.
            let status = StatusCode::SERVICE_UNAVAILABLE;
            let envelope = ErrorEnvelope {
                error: GenericError {
                    code: Some(status.as_u16()),
                    status: status.canonical_reason().map(str::to_owned),
                    message,
                    ..GenericError::default()
                },
                extra: Default::default(),
            };
            let mut res = render(status, &envelope);
            set_retry_after(&mut res);
            res
        }
    }
}

async fn ready_public(State(state): State<AppState>) -> Response {
    ready(&state, true).await
}

async fn ready_admin(State(state): State<AppState>) -> Response {
    ready(&state, false).await
}

async fn version() -> Json<Version> {
    Json(Version {
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
