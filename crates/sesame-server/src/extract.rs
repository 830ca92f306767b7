//! Extractors and request helpers: the session token in Kratos's credential order, client info for
//! devices, query parameters, and flow submit bodies (JSON or form).

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value};
use sesame_core::SessionToken;
use sesame_core::services::ClientInfo;
use std::net::SocketAddr;

/// The session token of a request, found as Kratos finds it (spec §1.2): `X-Session-Token`, then
/// the first session cookie that opens, then `Authorization: Bearer`. Once a source yields a token
/// there is no fallback, even if the token turns out to be invalid.
#[derive(Debug, Default)]
pub struct RequestToken {
    /// The token found, if any.
    pub token: Option<SessionToken>,
    /// The first session cookie that opened, whatever source the token came from (whoami re-issues
    /// it when the session's expiry moved past the cookie's).
    pub cookie: Option<sesame_core::cookie::CookieRecord>,
}

impl RequestToken {
    /// The token, if any.
    pub fn get(&self) -> Option<&SessionToken> {
        self.token.as_ref()
    }
}

/// Every cookie value named `name` in the `Cookie` headers, in order.
pub fn cookie_values<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"'))
        })
}

/// Finds the token in `headers`.
pub fn find_token(state: &AppState, headers: &HeaderMap) -> RequestToken {
    // A cookie that does not open is "no cookie" (DESIGN.md, differences 3 and 4).
    let cookie = cookie_values(headers, &state.cookie_name).find_map(|v| state.cookies.open(v));
    let header = headers
        .get("x-session-token")
        .and_then(|v| v.to_str().ok())
        .and_then(SessionToken::from_client);
    let token = header
        .or_else(|| cookie.as_ref().map(|c| c.token.clone()))
        .or_else(|| bearer(headers));
    RequestToken { token, cookie }
}

fn bearer(headers: &HeaderMap) -> Option<SessionToken> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let parts: Vec<&str> = auth.split(' ').collect();
    match parts.as_slice() {
        [scheme, token] if scheme.eq_ignore_ascii_case("bearer") => {
            SessionToken::from_client(token)
        }
        _ => None,
    }
}

/// What the anti-CSRF check of a browser flow needs from the request.
pub fn csrf_input(state: &AppState, headers: &HeaderMap) -> sesame_core::services::CsrfInput {
    sesame_core::services::CsrfInput {
        has_cookies: headers.contains_key(header::COOKIE),
        cookie: csrf_cookie(state, headers),
        header: headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The well-formed anti-CSRF cookie of the request, if any.
pub fn csrf_cookie(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie_values(headers, &state.browser.csrf_cookie.name)
        .find(|v| sesame_core::csrf::is_valid(v))
        .map(str::to_owned)
}

impl FromRequestParts<AppState> for RequestToken {
    type Rejection = std::convert::Infallible;

    #[tracing::instrument(skip_all)]
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(find_token(state, &parts.headers))
    }
}

/// Client info for the device record.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(crate::client_ip::client_info(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

/// Query parameters, decoded leniently (a bad escape never rejects the request).
pub fn query(parts_uri: &axum::http::Uri) -> Vec<(String, String)> {
    parts_uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// The first value of a query parameter.
pub fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    query(uri)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Why an API flow must refuse this request, if it carries browser headers.
pub fn browser_header_reason(headers: &HeaderMap) -> Option<String> {
    if headers.contains_key(header::ORIGIN) {
        return Some("The HTTP Request Header included the \"Origin\" key, indicating that this request was made as part of an AJAX request in a Browser. The flow however was initiated as an API request. To prevent potential misuse and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the documentation.".into());
    }
    let has_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('=').map(|(k, _)| k.trim().to_owned()))
        // Cloudflare adds its own cookies to every request; Kratos lets them through.
        .any(|k| !(k.starts_with("__cf") || k.starts_with("_cf") || k.starts_with("cf_")));
    has_cookie.then(|| "The HTTP Request Header included the \"Cookie\" key, indicating that this request was made by a Browser. The flow however was initiated as an API request. To prevent potential misuse and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the documentation.".into())
}

/// The absolute URL of a request, honouring `X-Forwarded-Proto` / `X-Forwarded-Host`.
pub fn request_url(state: &AppState, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let base = url::Url::parse(&state.public_base_url).ok();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let scheme = header("x-forwarded-proto")
        .or_else(|| base.as_ref().map(|b| b.scheme().to_owned()))
        .unwrap_or_else(|| "http".into());
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .or_else(|| {
            base.as_ref().and_then(|b| {
                b.host_str().map(|h| match b.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
            })
        })
        .unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("{scheme}://{host}{path}")
}

/// A flow submit body decoded to JSON: `Ok` for JSON or form bodies, `Err` with a decoder message
/// (rendered into the flow). A body over the limit is an error response (413).
pub struct SubmitBody(pub Result<Value, String>);

impl<S: Send + Sync> FromRequest<S> for SubmitBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let bytes = read_body(req, state).await?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            return Ok(SubmitBody(Ok(form_to_json(&bytes))));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(SubmitBody(Ok(Value::Object(Map::new()))));
        }
        Ok(SubmitBody(serde_json::from_slice(&bytes).map_err(|e| {
            format!("unable to decode JSON payload: {e}")
        })))
    }
}

/// Reads a body within the 5 MiB limit; over it → 413 envelope.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                Some("The request body exceeds the limit of 5 MiB.".into()),
                None,
            )
        } else {
            ApiError::bad_request(format!("unable to read the request body: {e}"))
        }
    })
}

/// A strict JSON body for admin endpoints: malformed JSON, wrong types or unknown fields → 400
/// with the decoder's message.
pub struct StrictJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(StrictJson)
            .map_err(|e| ApiError::bad_request_message(go_json_message(&e)))
    }
}

/// Go's wording for the decoder error clients match on (`json: unknown field "id"`); other
/// decoder errors keep serde's text.
fn go_json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if let Some((name, _)) = text
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    {
        return format!("json: unknown field \"{name}\"");
    }
    format!("json: {text}")
}

/// Turns `traits.email=a&password=b` into `{"traits":{"email":"a"},"password":"b"}`.
fn form_to_json(bytes: &[u8]) -> Value {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(bytes) {
        // An empty field is a field left blank: absent, so optional traits are not stored as ""
        // and required ones are reported missing.
        if value.is_empty() {
            continue;
        }
        let path: Vec<&str> = key.split('.').collect();
        insert_path(&mut root, &path, Value::String(value.into_owned()));
    }
    Value::Object(root)
}

fn insert_path(node: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            node.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let entry = node
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(child) = entry {
                insert_path(child, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_form_keys_nest() {
        let v = super::form_to_json(
            b"traits.email=a%40b.c&traits.name.first=A&password=x&method=password",
        );
        assert_eq!(v["traits"]["email"], "a@b.c");
        assert_eq!(v["traits"]["name"]["first"], "A");
        assert_eq!(v["password"], "x");
    }
}
