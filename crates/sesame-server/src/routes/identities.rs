//! Admin identities: `POST/GET /admin/identities`, `GET/PUT/DELETE /admin/identities/{id}`.

use super::core_err;
use crate::error::ApiError;
use crate::extract::{StrictJson, query};
use crate::json::{Json, response};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sesame_core::IdentityId;
use sesame_core::identity::CredentialType;
use sesame_core::store::IdentityQuery;
use sesame_types::{CreateIdentityBody, Identity, UpdateIdentityBody};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/identities", get(list).post(create))
        .route(
            "/admin/identities/{id}",
            get(one).put(update).delete(remove),
        )
}

/// Kratos answers 404 for an id that is not a UUID on these routes.
fn identity_id(raw: &str) -> Result<IdentityId, ApiError> {
    IdentityId::parse(raw).map_err(|_| ApiError::not_found())
}

fn include_password(uri: &Uri) -> Result<bool, ApiError> {
    let mut include = false;
    for (_, v) in query(uri)
        .into_iter()
        .filter(|(k, _)| k == "include_credential")
    {
        match CredentialType::parse(&v) {
            Some(CredentialType::Password) => include = true,
            Some(_) => {}
            None => {
                return Err(ApiError::bad_request(format!(
                    "The credential type {v:?} is not known."
                )));
            }
        }
    }
    Ok(include)
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
        .get(id, include_password(&uri)?)
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

const DEFAULT_PAGE_SIZE: u32 = 250;
const MAX_PAGE_SIZE: u32 = 500;

fn number(uri: &Uri, name: &str) -> Result<Option<u32>, ApiError> {
    query(uri)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse::<u32>().map_err(|_| {
                ApiError::bad_request_message(format!("could not parse parameter {name}"))
            })
        })
        .transpose()
}

/// Lists identities: keyset pagination (`page_size`, `page_token` = last id) or legacy
/// `page`/`per_page`, optionally filtered by `credentials_identifier`.
async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let params = query(&uri);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let include = include_password(&uri)?;
    let credentials_identifier = param("credentials_identifier").filter(|s| !s.is_empty());
    let legacy = param("page").is_some() || param("per_page").is_some();
    if legacy {
        let page = number(&uri, "page")?.unwrap_or(0);
        let per_page = number(&uri, "per_page")?
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, 1000);
        let end = (u64::from(page) + 1) * u64::from(per_page);
        if end > 1000 {
            return Err(ApiError::bad_request(
                "Legacy pagination (page, per_page) reaches at most 1000 identities; use page_token and page_size.",
            ));
        }
        let total = state
            .identities
            .count(credentials_identifier.clone())
            .await
            .map_err(core_err(&state))?;
        let query = IdentityQuery {
            credentials_identifier: credentials_identifier.clone(),
            after: None,
            limit: end as u32,
        };
        let page_items = state
            .identities
            .list(query, include)
            .await
            .map_err(core_err(&state))?;
        let items: Vec<Identity> = page_items
            .items
            .into_iter()
            .skip((page * per_page) as usize)
            .collect();
        let mut res = Json(items).into_response();
        let headers = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
            headers.insert("x-total-count", v);
        }
        let links = page_links(credentials_identifier.as_deref(), page, per_page, total);
        if let Ok(v) = HeaderValue::from_str(&links) {
            headers.insert(header::LINK, v);
        }
        return Ok(res);
    }
    let page_size = number(&uri, "page_size")?
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let after = match param("page_token").filter(|t| !t.is_empty()) {
        Some(t) => Some(IdentityId::parse(&t).map_err(|_| {
            ApiError::bad_request("The page token is invalid, do not craft your own page tokens")
        })?)
        .filter(|id| !id.0.is_nil()),
        None => None,
    };
    let query = IdentityQuery {
        credentials_identifier: credentials_identifier.clone(),
        after,
        limit: page_size,
    };
    let page = state
        .identities
        .list(query, include)
        .await
        .map_err(core_err(&state))?;
    let base = |token: &str| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(ci) = &credentials_identifier {
            q.append_pair("credentials_identifier", ci);
        }
        q.append_pair("page_size", &page_size.to_string());
        q.append_pair("page_token", token);
        format!("</admin/identities?{}>", q.finish())
    };
    let mut links = vec![format!(
        "{}; rel=\"first\"",
        base(&uuid::Uuid::nil().to_string())
    )];
    if let Some(last) = page.items.last().filter(|_| page.has_more) {
        links.push(format!("{}; rel=\"next\"", base(&last.id.to_string())));
    }
    let mut res = Json(page.items).into_response();
    if let Ok(v) = HeaderValue::from_str(&links.join(",")) {
        res.headers_mut().insert(header::LINK, v);
    }
    Ok(res)
}

/// The `Link` header of page pagination: first, next, prev and last, as Kratos renders them.
fn page_links(
    credentials_identifier: Option<&str>,
    page: u32,
    per_page: u32,
    total: u64,
) -> String {
    let link = |p: u64, rel: &str| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(ci) = credentials_identifier {
            q.append_pair("credentials_identifier", ci);
        }
        q.append_pair("page", &p.to_string());
        q.append_pair("per_page", &per_page.to_string());
        format!("</admin/identities?{}>; rel=\"{rel}\"", q.finish())
    };
    let (page, per_page) = (u64::from(page), u64::from(per_page));
    let last = total.div_ceil(per_page).saturating_sub(1);
    let mut links = vec![link(0, "first")];
    if (page + 1) * per_page < total {
        links.push(link(page + 1, "next"));
    }
    if page > 0 {
        links.push(link(page - 1, "prev"));
    }
    links.push(link(last, "last"));
    links.join(",")
}
