//! Admin identities: `POST/GET/PATCH /admin/identities` (PATCH creates in a batch),
//! `GET/PUT/PATCH/DELETE /admin/identities/{id}`, `DELETE /admin/identities/{id}/credentials/{type}`
//! and `GET /admin/identities/by/external/{external_id}`. The listing is in `identity_list`.

use super::core_err;
use super::identity_list::{include_credentials, list};
use crate::error::ApiError;
use crate::extract::{Path, StrictJson, read_body};
use crate::json::{Json, response};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{delete, get};
use sesame_core::services::{BatchItem, BatchOutcome};
use sesame_core::{CoreError, IdentityId};
use sesame_types::{
    BatchPatchAction, BatchPatchIdentitiesResponse, CreateIdentityBody, GenericError, Identity,
    IdentityPatchResponse, PatchIdentitiesBody, UpdateIdentityBody,
};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/identities", get(list).post(create).patch(batch))
        .route(
            "/admin/identities/{id}",
            get(one).put(update).patch(patch_one).delete(remove),
        )
        .route(
            "/admin/identities/{id}/credentials/{kind}",
            delete(remove_credentials),
        )
        .route(
            "/admin/identities/by/external/{external_id}",
            get(by_external_id),
        )
        .route("/admin/identities/by/external/", get(empty_external_id))
}

/// Kratos answers 404 for an id that is not a UUID on these routes.
fn identity_id(raw: &str) -> Result<IdentityId, ApiError> {
    IdentityId::parse(raw).map_err(|_| ApiError::not_found())
}

async fn create(
    State(state): State<AppState>,
    StrictJson(body): StrictJson<CreateIdentityBody>,
) -> Result<Response, ApiError> {
    let identity = state
        .identities
        .create(body, state.now())
        .await
        .map_err(core_err(&state))?;
    let mut res = response(StatusCode::CREATED, &identity);
    let location = format!("{}identities/{}", state.admin_base_url, identity.id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Identity>, ApiError> {
    let id = identity_id(&id)?;
    let identity = state
        .identities
        .get(id, &include_credentials(&uri)?)
        .await
        .map_err(core_err(&state))?;
    Ok(Json(identity))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    StrictJson(body): StrictJson<UpdateIdentityBody>,
) -> Result<Json<Identity>, ApiError> {
    let id = identity_id(&id)?;
    let identity = state
        .identities
        .update(id, body, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(identity))
}

async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = identity_id(&id)?;
    state
        .identities
        .delete(id)
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}

/// An RFC 6902 JSON Patch against the identity's admin JSON; the body is read as it comes (Kratos
/// ignores its `Content-Type`).
async fn patch_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Identity>, ApiError> {
    let id = identity_id(&id)?;
    let body = read_body(req, &()).await?;
    let identity = state
        .identities
        .patch(id, &body, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(identity))
}

async fn remove_credentials(
    State(state): State<AppState>,
    Path((id, kind)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = identity_id(&id)?;
    state
        .identities
        .delete_credentials(id, &kind, state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn by_external_id(
    State(state): State<AppState>,
    Path(external_id): Path<String>,
    uri: Uri,
) -> Result<Json<Identity>, ApiError> {
    let include = include_credentials(&uri)?;
    let identity = state
        .identities
        .get_by_external_id(&external_id, &include)
        .await
        .map_err(core_err(&state))?;
    Ok(Json(identity))
}

async fn empty_external_id() -> ApiError {
    ApiError::bad_request("The external ID must not be empty.")
}

/// Creates the batch's identities; one result per item, in order, whatever became of the others.
async fn batch(
    State(state): State<AppState>,
    StrictJson(body): StrictJson<PatchIdentitiesBody>,
) -> Result<Json<BatchPatchIdentitiesResponse>, ApiError> {
    let items = state
        .identities
        .batch_create(body.identities, state.now())
        .await
        .map_err(core_err(&state))?;
    let identities = items
        .into_iter()
        .map(|BatchItem { patch_id, outcome }| match outcome {
            BatchOutcome::Created(id) => IdentityPatchResponse {
                action: BatchPatchAction::Create,
                identity: Some(id.0),
                patch_id,
                error: None,
            },
            BatchOutcome::Failed(e) => IdentityPatchResponse {
                action: BatchPatchAction::Error,
                identity: None,
                patch_id,
                error: Some(item_error(&state, e)),
            },
        })
        .collect();
    Ok(Json(BatchPatchIdentitiesResponse { identities }))
}

/// The error object of a failed batch item: the envelope's inner object. A taken identifier is
/// the database's unique violation, as Kratos reports it for batches.
fn item_error(state: &AppState, e: CoreError) -> GenericError {
    if let CoreError::IdentityConflict = e {
        return GenericError {
            code: Some(409),
            status: Some("Conflict".into()),
            message: "Unable to insert or update resource because a resource with that value exists already".into(),
            ..GenericError::default()
        };
    }
    match ApiError::from_core(e, &state.public_base_url) {
        ApiError::Envelope { envelope, .. } => envelope.error,
        ApiError::Unavailable => crate::error::unavailable_error(),
        _ => GenericError {
            code: Some(500),
            status: Some("Internal Server Error".into()),
            message: "An internal server error occurred, please contact the system administrator"
                .into(),
            ..GenericError::default()
        },
    }
}
