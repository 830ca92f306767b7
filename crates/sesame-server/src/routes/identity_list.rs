//! `GET /admin/identities`: the filters (`ids`, `credentials_identifier`, `organization_id`; one at
//! a time, as in Kratos), `include_credential`, and both paginations with their `Link` headers.
//! Every filter works with both paginations; the links keep the request's other parameters.

use super::core_err;
use crate::error::ApiError;
use crate::extract::query;
use crate::json::Json;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use sesame_core::IdentityId;
use sesame_core::identity::CredentialType;
use sesame_core::store::IdentityQuery;
use sesame_types::Identity;

const DEFAULT_PAGE_SIZE: u32 = 250;
const MAX_PAGE_SIZE: u32 = 500;
/// Most ids one `ids` filter may name.
const MAX_IDS: usize = 500;
/// The parameters links carry on besides paging: the filters and `include_credential`. Anything
/// else the request had is dropped, so a link is never longer than what the listing understood.
const KEPT: [&str; 5] = [
    "ids",
    "credentials_identifier",
    "organization_id",
    "preview_credentials_identifier_similar",
    "include_credential",
];

/// Every credential type Kratos knows (its OpenAPI enum). Sesame stores `password`, `totp` and
/// `lookup_secret`; asking for the configuration of another is accepted and shows nothing.
const KRATOS_CREDENTIAL_TYPES: [&str; 13] = [
    "password",
    "oidc",
    "totp",
    "lookup_secret",
    "webauthn",
    "code",
    "passkey",
    "profile",
    "saml",
    "deviceauthn",
    "identifier_first",
    "link_recovery",
    "code_recovery",
];

type Params = [(String, String)];

fn values<'a>(params: &'a Params, name: &'a str) -> impl Iterator<Item = &'a str> {
    params
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn first<'a>(params: &'a Params, name: &'a str) -> Option<&'a str> {
    values(params, name).next()
}

/// The credential types whose configuration `include_credential` asks for.
pub(super) fn include_credentials(uri: &Uri) -> Result<Vec<CredentialType>, ApiError> {
    let params = query(uri);
    let mut include = Vec::new();
    for v in values(&params, "include_credential") {
        match CredentialType::parse(v) {
            Some(t) => include.push(t),
            None if KRATOS_CREDENTIAL_TYPES.contains(&v) => {}
            None => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value `{v}` for parameter `include_credential`."
                )));
            }
        }
    }
    Ok(include)
}

fn uuid_param(name: &str, v: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(v).map_err(|_| {
        ApiError::bad_request(format!("Invalid UUID value `{v}` for parameter `{name}`."))
    })
}

/// The filters of a listing; at most one may be given.
fn filters(params: &Params) -> Result<IdentityQuery, ApiError> {
    let mut query = IdentityQuery::default();
    let mut requested = 0;
    if first(params, "ids").is_some() {
        requested += 1;
        for v in values(params, "ids") {
            query.ids.push(IdentityId(uuid_param("ids", v)?));
        }
        if query.ids.len() > MAX_IDS {
            return Err(ApiError::bad_request(format!(
                "The number of ids to filter must not exceed {MAX_IDS}."
            )));
        }
    }
    if let Some(v) = first(params, "organization_id").filter(|v| !v.is_empty()) {
        requested += 1;
        query.organization_id = Some(uuid_param("organization_id", v)?);
    }
    if let Some(v) = first(params, "credentials_identifier").filter(|v| !v.is_empty()) {
        requested += 1;
        query.credentials_identifier = Some(v.to_owned());
    }
    // Accepted (Kratos calls it an experimental preview) but not applied.
    if first(params, "preview_credentials_identifier_similar").is_some_and(|v| !v.is_empty()) {
        requested += 1;
    }
    if requested > 1 {
        return Err(ApiError::bad_request(
            "You cannot combine multiple filters in this API",
        ));
    }
    Ok(query)
}

fn number(params: &Params, name: &str) -> Result<Option<u32>, ApiError> {
    first(params, name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                ApiError::bad_request_message(format!("could not parse parameter {name}"))
            })
        })
        .transpose()
}

/// `</admin/identities?…>; rel="…"`: the request's known parameters ([`KEPT`]) plus `paging`,
/// keys sorted as Go's `url.Values.Encode` sorts them.
fn link(params: &Params, paging: &[(&str, String)], rel: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| KEPT.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(paging.iter().map(|(k, v)| (*k, v.as_str())))
        .collect();
    pairs.sort_by_key(|(k, _)| *k);
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(pairs);
    format!("</admin/identities?{}>; rel=\"{rel}\"", q.finish())
}

fn with_header(mut res: Response, name: header::HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
    res
}

/// Lists identities: keyset pagination (`page_size`, `page_token` = the last id seen) or legacy
/// `page`/`per_page` (with `X-Total-Count`), filtered and declassified as asked.
pub(super) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let params = query(&uri);
    let filter = filters(&params)?;
    let include = include_credentials(&uri)?;
    if first(&params, "page").is_some() || first(&params, "per_page").is_some() {
        return legacy_page(&state, &params, filter, &include).await;
    }
    let page_size = number(&params, "page_size")?
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let after = match first(&params, "page_token").filter(|t| !t.is_empty()) {
        Some(t) => Some(IdentityId::parse(t).map_err(|_| {
            ApiError::bad_request("The page token is invalid, do not craft your own page tokens")
        })?)
        .filter(|id| !id.0.is_nil()),
        None => None,
    };
    let query = IdentityQuery {
        after,
        limit: page_size,
        ..filter
    };
    let page = state
        .identities
        .list(query, &include)
        .await
        .map_err(core_err(&state))?;
    let size = ("page_size", page_size.to_string());
    let mut links = vec![link(
        &params,
        &[size.clone(), ("page_token", uuid::Uuid::nil().to_string())],
        "first",
    )];
    if let Some(last) = page.items.last().filter(|_| page.has_more) {
        links.push(link(
            &params,
            &[size, ("page_token", last.id.to_string())],
            "next",
        ));
    }
    Ok(with_header(
        Json(page.items).into_response(),
        header::LINK,
        &links.join(","),
    ))
}

/// The legacy `page`/`per_page` pagination, which reaches the first 1000 identities.
async fn legacy_page(
    state: &AppState,
    params: &Params,
    filter: IdentityQuery,
    include: &[CredentialType],
) -> Result<Response, ApiError> {
    let page = number(params, "page")?.unwrap_or(0);
    let per_page = number(params, "per_page")?
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
        .count(filter.clone())
        .await
        .map_err(core_err(state))?;
    let query = IdentityQuery {
        after: None,
        limit: end as u32,
        ..filter
    };
    let found = state
        .identities
        .list(query, include)
        .await
        .map_err(core_err(state))?;
    let items: Vec<Identity> = found
        .items
        .into_iter()
        .skip((page * per_page) as usize)
        .collect();
    let res = with_header(
        Json(items).into_response(),
        header::HeaderName::from_static("x-total-count"),
        &total.to_string(),
    );
    let links = page_links(params, page, per_page, total);
    Ok(with_header(res, header::LINK, &links))
}

/// The `Link` header of page pagination: first, next, prev and last, as Kratos renders them.
fn page_links(params: &Params, page: u32, per_page: u32, total: u64) -> String {
    let at = |p: u64, rel: &str| {
        link(
            params,
            &[("page", p.to_string()), ("per_page", per_page.to_string())],
            rel,
        )
    };
    let (page, per_page) = (u64::from(page), u64::from(per_page));
    let last = total.div_ceil(per_page).saturating_sub(1);
    let mut links = vec![at(0, "first")];
    if (page + 1) * per_page < total {
        links.push(at(page + 1, "next"));
    }
    if page > 0 {
        links.push(at(page - 1, "prev"));
    }
    links.push(at(last, "last"));
    links.join(",")
}
