//! Cross-cutting layers: the refusal of NUL in paths and queries, `error.request` from
//! `X-Request-ID` and `Cache-Control` on GET (the three in one layer, [`common`]), `Vary: Cookie`,
//! and the admin `/admin` prefix. The request log is [`crate::access_log`].

use crate::error::{RenderedError, render};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

/// The layer every request on both ports goes through, inside the request log: NUL in the path
/// or query is refused ([`refused_nul`]), error envelopes get `error.request` ([`request_id`]),
/// and GET answers `Cache-Control` ([`no_cache`]). One layer rather than three because each of
/// axum's `from_fn` layers boxes the rest of the stack and its future on every request, which on
/// whoami cost several thousand instructions a layer.
pub async fn common(req: Request, next: Next) -> Response {
    let is_get = req.method() == Method::GET;
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let res = match refused_nul(&req) {
        Some(refused) => refused,
        None => next.run(req).await,
    };
    let mut res = match request_id {
        Some(id) => with_request_id(res, id),
        None => res,
    };
    if is_get {
        no_cache(&mut res);
    }
    res
}

/// Kratos's no-cache middleware: every GET answer on both ports, except one whose handler chose
/// its own `Cache-Control` (the built-in UI's stylesheet).
fn no_cache(res: &mut Response) {
    res.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(
            "private, no-cache, no-store, must-revalidate",
        ));
}

/// Kratos's anti-CSRF middleware marks every public answer as depending on cookies (`Vary: Cookie`),
/// except the paths it ignores: `/sessions…` (whoami among them) and the health checks.
pub async fn vary_cookie(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let ignored = path.starts_with("/sessions") || path.starts_with("/health/");
    let mut res = next.run(req).await;
    if !ignored {
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static("Cookie"));
    }
    res
}

/// Copies `X-Request-ID` into `error.request` of a generic error envelope.
fn with_request_id(res: Response, id: String) -> Response {
    let Some(RenderedError(mut envelope)) = res.extensions().get::<RenderedError>().cloned() else {
        return res;
    };
    envelope.error.request = Some(id);
    let mut rendered = render(res.status(), &envelope);
    for (name, value) in res.headers() {
        if name != header::CONTENT_LENGTH && !rendered.headers().contains_key(name) {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    // The marks the outer layers read (the metrics' database failure) stay with the answer.
    let (parts, _) = res.into_parts();
    rendered.extensions_mut().extend(parts.extensions);
    rendered
}

/// The admin port serves everything under `/admin`; other paths get the prefix (`/identities` is
/// `/admin/identities`).
pub fn admin_prefix(mut req: Request) -> Request {
    let path = req.uri().path();
    if path == "/admin" || path.starts_with("/admin/") {
        return req;
    }
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    if let Ok(uri) = format!("/admin{pq}").parse::<Uri>() {
        *req.uri_mut() = uri;
    }
    req
}

/// The refusal of a request whose path or query decodes to text with NUL (400, naming the
/// parameter), before any handler sees it: no path segment or query parameter (a flow id,
/// `return_to`, `credentials_identifier`, an external id) then carries NUL towards SQL, where
/// PostgreSQL would fail on it (see `sesame_core::untrusted`).
fn refused_nul(req: &Request) -> Option<Response> {
    use axum::response::IntoResponse;
    use sesame_core::untrusted;
    let uri = req.uri();
    let path_has_nul = percent_encoding::percent_decode(uri.path().as_bytes()).any(|b| b == 0);
    let refused = if path_has_nul {
        Some(untrusted::Refused::Nul {
            field: "request path".into(),
        })
    } else {
        uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes()).find_map(|(k, v)| {
                untrusted::text(&k, &k)
                    .and_then(|()| untrusted::text(&k, &v))
                    .err()
            })
        })
    };
    refused.map(|e| crate::error::ApiError::bad_request(e.to_string()).into_response())
}
