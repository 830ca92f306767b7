//! [`Response`], the [`RequestInfo`] it answers and the [`RawResponse`] kept on errors.

use http::header::HeaderMap;
use http::{Method, StatusCode};
use serde_json::{Map, Value};
use std::fmt;

/// The header carrying the id of the identity whoami answered for.
pub const IDENTITY_ID_HEADER: &str = "x-kratos-authenticated-identity-id";

/// Headers whose values are credentials: `Debug` prints them as `***`.
const SECRET_HEADERS: [&str; 4] = ["x-session-token", "cookie", "authorization", "set-cookie"];

/// Prints a header map with credential values replaced by `***`.
pub(crate) struct Redacted<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if SECRET_HEADERS.contains(&name.as_str()) {
                map.entry(&name.as_str(), &"***");
            } else {
                map.entry(&name.as_str(), &value);
            }
        }
        map.finish()
    }
}

/// The request a response (or an error) answers.
#[derive(Clone, Default)]
pub struct RequestInfo {
    /// The HTTP method.
    pub method: Method,
    /// The absolute URL that was requested first (redirects are in [`Response::redirects`]).
    pub url: String,
    /// The headers sent, after interceptors ran. `Debug` redacts credentials.
    pub headers: HeaderMap,
}

impl fmt::Debug for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &Redacted(&self.headers))
            .finish()
    }
}

/// A decoded answer together with everything the HTTP response said.
#[derive(Clone)]
pub struct Response<T> {
    /// The decoded body.
    pub data: T,
    /// The response headers.
    pub headers: HeaderMap,
    /// The status code.
    pub status: StatusCode,
    /// The status's reason phrase (`OK`, `Unauthorized` …).
    pub status_text: String,
    /// Whether the final response is itself a redirect (3xx) that was not followed.
    pub is_redirect: bool,
    /// The URLs redirected to, in order (same-origin redirects only are followed).
    pub redirects: Vec<String>,
    /// The request-scoped `extra` values, as the interceptors left them.
    pub extra: Map<String, Value>,
    /// The request this answers.
    pub request: RequestInfo,
}

impl<T> Response<T> {
    /// `X-Kratos-Authenticated-Identity-Id`: the identity whoami answered for.
    pub fn identity_id(&self) -> Option<&str> {
        self.headers
            .get(IDENTITY_ID_HEADER)
            .and_then(|v| v.to_str().ok())
    }

    /// The absolute URL of the `Link` header's entry with this `rel` (`next`, `first` …).
    pub fn link(&self, rel: &str) -> Option<String> {
        let base = reqwest::Url::parse(&self.request.url).ok()?;
        self.headers
            .get_all(http::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|entry| {
                let (target, params) = entry.trim().split_once(';')?;
                let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
                let matches = params.split(';').any(|p| {
                    p.trim()
                        .strip_prefix("rel=")
                        .is_some_and(|v| v.trim_matches('"') == rel)
                });
                matches.then(|| base.join(target).ok().map(String::from))?
            })
    }

    /// The `page_token` of the `Link: rel="next"` entry: pass it to the next request's
    /// `page_token`. `None` on the last page.
    pub fn next_page_token(&self) -> Option<String> {
        let next = reqwest::Url::parse(&self.link("next")?).ok()?;
        next.query_pairs()
            .find(|(k, _)| k == "page_token")
            .map(|(_, v)| v.into_owned())
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("status_text", &self.status_text)
            .field("headers", &Redacted(&self.headers))
            .field("is_redirect", &self.is_redirect)
            .field("redirects", &self.redirects)
            .field("extra", &self.extra)
            .field("request", &self.request)
            .field("data", &self.data)
            .finish()
    }
}

/// An HTTP response as received, kept on an [`Error`](crate::Error) when there was one.
#[derive(Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The undecoded body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for RawResponse {
    // The body may be a session (a `Decode` error keeps it): only its size is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("headers", &Redacted(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}
