//! Cross-cutting layers: `Cache-Control` on GET, `error.request` from `X-Request-ID`, the admin
//! `/admin` prefix, and the refusal of NUL in paths and queries. The request log is
//! [`crate::access_log`].

use crate::error::{RenderedError, render};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

/// Kratos's no-cache middleware: every GET answer on both ports, except one whose handler chose
/// its own `Cache-Control` (the built-in UI's stylesheet).
pub async fn no_cache_on_get(req: Request, next: Next) -> Response {
    let is_get = req.method() == Method::GET;
    let mut res = next.run(req).await;
    if is_get {
        res.headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(
                "private, no-cache, no-store, must-revalidate",
            ));
    }
    res
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

/// Copies `X-Request-ID` into `error.request` of generic error envelopes.
pub async fn request_id(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.run(req).await;
    let Some(id) = request_id.filter(|s| !s.is_empty()) else {
        return res;
    };
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

/// Refuses a request whose path or query decodes to text with NUL (400, naming the parameter),
/// before any handler sees it: no path segment or query parameter (a flow id, `return_to`,
/// `credentials_identifier`, an external id) then carries NUL towards SQL, where PostgreSQL would
/// fail on it (see `sesame_core::untrusted`).
pub async fn refuse_nul(req: Request, next: Next) -> Response {
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
    match refused {
        Some(e) => crate::error::ApiError::bad_request(e.to_string()).into_response(),
        None => next.run(req).await,
    }
}
