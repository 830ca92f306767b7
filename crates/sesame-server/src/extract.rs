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

/// Path parameters; a path that cannot be decoded (a segment that is not UTF-8 once
/// percent-decoded) is a 400 in Kratos's envelope instead of axum's plain-text answer.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
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
/// (rendered into the flow). A body over the limit is an error response (413); one that nests too
/// deep, carries too many form fields or text Sesame refuses (see [`sesame_core::untrusted`]) is a
/// 400 envelope naming the field, before any flow is looked at.
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
            let value = form_to_json(&bytes).map_err(ApiError::bad_request)?;
            return Ok(SubmitBody(Ok(value)));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(SubmitBody(Ok(Value::Object(Map::new()))));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => {
                check_body(&value).map_err(|e| ApiError::bad_request(e.to_string()))?;
                Ok(SubmitBody(Ok(value)))
            }
            Err(e) => Ok(SubmitBody(Err(format!(
                "unable to decode JSON payload: {e}"
            )))),
        }
    }
}

/// Each member of a submit body (`traits`, `identifier` …) within the bounds of stored values.
fn check_body(body: &Value) -> Result<(), sesame_core::untrusted::Refused> {
    use sesame_core::untrusted;
    match body {
        Value::Object(members) => members.iter().try_for_each(|(name, value)| {
            untrusted::text(name, name)?;
            untrusted::json(name, value)
        }),
        other => untrusted::json("(body)", other),
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

/// Most fields one form body may carry: a flow's form has a few dozen at most, and each field is
/// a map entry held in memory.
pub const MAX_FORM_FIELDS: usize = 1000;

/// Most dotted segments of a form key: a value inside the body nests at most
/// [`sesame_core::untrusted::MAX_DEPTH`] levels, as in a JSON body.
pub const MAX_FORM_KEY_SEGMENTS: usize = sesame_core::untrusted::MAX_DEPTH + 1;

/// One `application/x-www-form-urlencoded` component: `+` is a space, then percent-decoding.
/// `form_urlencoded` replaces bytes that are not UTF-8 silently; a password or identifier changed
/// behind the user's back is worse than a clear 400, so the bytes are decoded strictly here.
fn form_component(raw: &[u8]) -> Result<String, std::str::Utf8Error> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(decoded).map_err(|e| e.utf8_error())
}

/// Turns `traits.email=a&password=b` into `{"traits":{"email":"a"},"password":"b"}`. Brackets
/// mean nothing (`traits.a[9]` is a key of that name), so no key allocates an array. `Err` is the
/// reason of the 400: a field that is not UTF-8, contains NUL, nests deeper than
/// [`MAX_FORM_KEY_SEGMENTS`], or one field more than [`MAX_FORM_FIELDS`].
fn form_to_json(bytes: &[u8]) -> Result<Value, String> {
    use sesame_core::untrusted;
    let mut root = Map::new();
    let pairs = bytes.split(|&b| b == b'&').filter(|p| !p.is_empty());
    for (index, pair) in pairs.enumerate() {
        if index >= MAX_FORM_FIELDS {
            return Err(format!("The form has more than {MAX_FORM_FIELDS} fields."));
        }
        let (raw_key, raw_value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let key = form_component(raw_key)
            .map_err(|_| "A form field name is not valid UTF-8.".to_owned())?;
        let value = form_component(raw_value)
            .map_err(|_| format!("The value of `{key}` is not valid UTF-8."))?;
        untrusted::text(&key, &key)
            .and_then(|()| untrusted::text(&key, &value))
            .map_err(|e| e.to_string())?;
        // An empty field is a field left blank: absent, so optional traits are not stored as ""
        // and required ones are reported missing.
        if value.is_empty() {
            continue;
        }
        if key.split('.').nth(MAX_FORM_KEY_SEGMENTS).is_some() {
            return Err(untrusted::Refused::TooDeep {
                field: key
                    .split('.')
                    .take(MAX_FORM_KEY_SEGMENTS)
                    .collect::<Vec<_>>()
                    .join("."),
            }
            .to_string());
        }
        insert_path(&mut root, &key, Value::String(value));
    }
    Ok(Value::Object(root))
}

/// Sets `value` at the dotted `key`, making (or replacing non-object values by) the objects on
/// the way. A loop, not recursion: the depth is bounded by the caller, the stack use is not.
fn insert_path(root: &mut Map<String, Value>, key: &str, value: Value) {
    let mut segments = key.split('.').peekable();
    let mut node = root;
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            node.insert(segment.to_owned(), value);
            return;
        }
        let entry = node
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(child) = entry else {
            return;
        };
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::untrusted::{MAX_DEPTH, depth};

    #[test]
    fn dotted_form_keys_nest() {
        let v =
            form_to_json(b"traits.email=a%40b.c&traits.name.first=A&password=x+y&method=password")
                .unwrap();
        assert_eq!(v["traits"]["email"], "a@b.c");
        assert_eq!(v["traits"]["name"]["first"], "A");
        assert_eq!(v["password"], "x y");
    }

    #[test]
    fn a_key_of_any_depth_is_refused_without_recursion() {
        let key = format!("traits{}.b", ".a".repeat(100_000));
        let err = form_to_json(format!("{key}=x").as_bytes()).unwrap_err();
        assert!(err.contains("nests deeper than 64 levels"), "{err}");
        assert!(
            err.len() < 400,
            "the reason names a bounded prefix of the key"
        );
        let deepest_allowed = vec!["a"; MAX_FORM_KEY_SEGMENTS].join(".");
        let v = form_to_json(format!("{deepest_allowed}=x").as_bytes()).unwrap();
        assert_eq!(depth(&v), MAX_DEPTH + 1);
        assert!(
            check_body(&v).is_ok(),
            "the form bound and the JSON bound agree"
        );
        assert!(form_to_json(format!("{deepest_allowed}.a=x").as_bytes()).is_err());
    }

    #[test]
    fn brackets_allocate_nothing_and_fields_are_counted() {
        let v = form_to_json(b"traits.a[999999999]=x").unwrap();
        assert_eq!(v["traits"]["a[999999999]"], "x");
        let many = |n: usize| {
            (0..n)
                .map(|i| format!("f{i}=x"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert!(form_to_json(many(MAX_FORM_FIELDS).as_bytes()).is_ok());
        assert_eq!(
            form_to_json(many(MAX_FORM_FIELDS + 1).as_bytes()).unwrap_err(),
            "The form has more than 1000 fields."
        );
    }

    #[test]
    fn nul_and_bytes_that_are_not_utf8_are_refused() {
        assert_eq!(
            form_to_json(b"identifier=a%00b").unwrap_err(),
            "The value of `identifier` contains a NUL character (\\u0000), which is not accepted."
        );
        assert!(form_to_json(b"traits.e%00mail=x").is_err());
        assert_eq!(
            form_to_json(b"password=%FF").unwrap_err(),
            "The value of `password` is not valid UTF-8."
        );
        assert!(form_to_json(b"%C3%28=x").is_err());
        assert_eq!(form_to_json(b"a=%E2%82%AC&b=%zz").unwrap()["a"], "\u{20ac}");
    }

    #[test]
    fn json_bodies_are_bounded_per_member() {
        let inside = sesame_core::untrusted::nested(MAX_DEPTH, Value::from(1));
        assert!(check_body(&serde_json::json!({ "traits": inside })).is_ok());
        let deeper = sesame_core::untrusted::nested(MAX_DEPTH + 1, Value::from(1));
        assert!(check_body(&serde_json::json!({ "traits": deeper })).is_err());
        assert!(check_body(&serde_json::json!({"identifier": "a\u{0}"})).is_err());
        assert!(check_body(&serde_json::json!(["\u{0}"])).is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use sesame_core::untrusted::depth;

    fn leaves(v: &Value) -> usize {
        match v {
            Value::Object(m) => m.values().map(leaves).sum(),
            _ => 1,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_form_body_parses_or_is_refused_within_bounds(body in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(v) = form_to_json(&body) {
                prop_assert!(depth(&v) <= MAX_FORM_KEY_SEGMENTS);
                prop_assert!(leaves(&v) <= MAX_FORM_FIELDS);
                prop_assert!(check_body(&v).is_ok());
            }
        }

        #[test]
        fn form_like_bodies_never_panic(body in "([a-z.\\[\\]%0-9+]{0,12}(=[a-zA-Z%0-9+.]{0,8})?&){0,20}") {
            let _ = form_to_json(body.as_bytes());
        }

        #[test]
        fn encoded_fields_round_trip(
            fields in prop::collection::btree_map("[a-z]{1,6}", (prop::collection::vec("[a-z_]{1,4}", 0..4), "[^\\x00]{1,16}"), 1..8),
        ) {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (top, (rest, value)) in &fields {
                let key = std::iter::once(top.as_str()).chain(rest.iter().map(String::as_str)).collect::<Vec<_>>().join(".");
                form.append_pair(&key, value);
            }
            let v = form_to_json(form.finish().as_bytes()).unwrap();
            for (top, (rest, value)) in &fields {
                let mut at = &v[top.as_str()];
                for segment in rest {
                    at = &at[segment.as_str()];
                }
                prop_assert_eq!(at.as_str(), Some(value.as_str()));
            }
        }

        #[test]
        fn json_body_checks_never_panic(body in prop::collection::vec(prop_oneof![Just(b'['), Just(b']'), Just(b'{'), Just(b'}'), Just(b'"'), Just(b':'), Just(b','), Just(b'a'), Just(b'0'), Just(b'\\')], 0..400)) {
            if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                let _ = check_body(&v);
            }
        }

        #[test]
        fn bearer_tokens_are_read_from_exactly_two_parts(value in "[ -~]{0,64}") {
            let mut headers = HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                headers.insert(header::AUTHORIZATION, v);
                let token = bearer(&headers);
                let parts: Vec<&str> = value.split(' ').collect();
                let expected = match parts.as_slice() {
                    [scheme, t] if scheme.eq_ignore_ascii_case("bearer") && !t.is_empty() => Some(*t),
                    _ => None,
                };
                prop_assert_eq!(token.as_ref().map(SessionToken::expose), expected);
            }
        }

        #[test]
        fn cookie_values_come_from_the_named_pairs(header_value in "[ -~]{0,128}", name in "[a-z_]{1,8}") {
            let mut headers = HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_str(&header_value) {
                headers.insert(header::COOKIE, v);
                for value in cookie_values(&headers, &name) {
                    prop_assert!(!value.contains(';'));
                    prop_assert!(header_value.contains(value));
                }
                let _ = browser_header_reason(&headers);
            }
        }
    }
}
