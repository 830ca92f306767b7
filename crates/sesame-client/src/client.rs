//! [`Client`], its builder, and the [`Interceptor`] hook every request passes through.

use crate::error::{Error, ErrorKind};
use crate::response::RequestInfo;
use http::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, StatusCode};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// The user agent sent unless [`ClientBuilder::user_agent`] says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("sesame-client/", env!("CARGO_PKG_VERSION"));

/// A request as an [`Interceptor`] sees it, before it is sent; interceptors may change it.
#[derive(Debug)]
pub struct RequestParts {
    /// The HTTP method.
    pub method: Method,
    /// The absolute URL, query included.
    pub url: String,
    /// Every header that will be sent (defaults, user agent and per-request headers).
    pub headers: HeaderMap,
    /// The request-scoped `extra` values; they are returned on the response.
    pub extra: Map<String, Value>,
}

/// A response as an [`Interceptor`] sees it, before its body is decoded.
#[derive(Debug)]
pub struct ResponseParts<'a> {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: &'a HeaderMap,
    /// The request-scoped `extra` values.
    pub extra: &'a Map<String, Value>,
}

/// Sees every request before it is sent and every response after (like Dio's interceptors), e.g.
/// for tracing, metrics or adding credentials. Interceptors run in the order they were added.
pub trait Interceptor: Send + Sync {
    /// Called once per request, before it is sent (not for redirects followed).
    fn on_request(&self, req: &mut RequestParts) {
        let _ = req;
    }

    /// Called once per HTTP response (success or not), before its body is decoded.
    fn on_response(&self, res: &ResponseParts<'_>) {
        let _ = res;
    }
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) public_url: String,
    pub(crate) admin_url: Option<String>,
    pub(crate) default_headers: HeaderMap,
    pub(crate) interceptors: Vec<Arc<dyn Interceptor>>,
    /// Every request's deadline unless the request sets its own.
    pub(crate) timeout: Option<Duration>,
}

/// A Sesame (or Kratos) API client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("public_url", &self.inner.public_url)
            .field("admin_url", &self.inner.admin_url)
            .field("timeout", &self.inner.timeout)
            .field("interceptors", &self.inner.interceptors.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a client for the public API at `public_url` (e.g. `http://127.0.0.1:4433`).
    pub fn builder(public_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            public_url: public_url.into(),
            admin_url: None,
            timeout: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            default_headers: HeaderMap::new(),
            interceptors: Vec::new(),
            invalid: None,
        }
    }

    /// The public API base URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The admin API base URL, without a trailing slash, if one was configured.
    pub fn admin_url(&self) -> Option<&str> {
        self.inner.admin_url.as_deref()
    }

    /// A URL on the public API.
    pub(crate) fn public(&self, path: &str) -> String {
        format!("{}{path}", self.inner.public_url)
    }

    /// A URL on the admin API, or why there is none.
    pub(crate) fn admin(&self, path: &str) -> Result<String, String> {
        match &self.inner.admin_url {
            Some(base) => Ok(format!("{base}{path}")),
            None => Err(format!(
                "{path} is an admin API call, and the client has no admin URL (ClientBuilder::admin_url)"
            )),
        }
    }
}

/// Configures a [`Client`]; see [`Client::builder`]. Requests send `Accept: application/json`
/// unless a default header says otherwise.
pub struct ClientBuilder {
    public_url: String,
    admin_url: Option<String>,
    timeout: Option<Duration>,
    user_agent: String,
    default_headers: HeaderMap,
    interceptors: Vec<Arc<dyn Interceptor>>,
    invalid: Option<String>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("public_url", &self.public_url)
            .field("admin_url", &self.admin_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The admin API base URL (e.g. `http://127.0.0.1:4434`).
    pub fn admin_url(mut self, url: impl Into<String>) -> Self {
        self.admin_url = Some(url.into());
        self
    }

    /// The deadline of every request, from connecting to the last byte of the body (redirects
    /// followed included); none by default. A request that runs out of time fails with
    /// [`ErrorKind::Timeout`]. [`Request::timeout`](crate::Request::timeout) overrides it for one
    /// request, longer or shorter.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header; [`DEFAULT_USER_AGENT`] by default.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// A header sent with every request (per-request headers of the same name replace it).
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match parse_header(name, value) {
            Ok((name, value)) => {
                self.default_headers.insert(name, value);
            }
            Err(e) => self.invalid = Some(e),
        }
        self
    }

    /// Adds an interceptor; interceptors run in the order they were added.
    pub fn interceptor(mut self, interceptor: Arc<dyn Interceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Builds the client; fails with [`ErrorKind::Config`] on an invalid URL or header.
    pub fn build(self) -> Result<Client, Error> {
        let config =
            |message: String| Error::new(ErrorKind::Config(message), RequestInfo::default(), None);
        if let Some(message) = self.invalid {
            return Err(config(message));
        }
        let public_url = base_url(&self.public_url).map_err(config)?;
        let admin_url = match &self.admin_url {
            Some(url) => Some(base_url(url).map_err(config)?),
            None => None,
        };
        let mut default_headers = self.default_headers;
        let agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| config("the user agent is not a valid header value".to_owned()))?;
        default_headers.insert(USER_AGENT, agent);
        // Browser endpoints answer JSON (not redirects to HTML pages) to JSON clients.
        default_headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        // Redirects are followed by hand (same origin only) so that they can be reported, and so
        // that credentials never travel to another origin. The timeout is not reqwest's: each
        // request applies its own deadline (or this default) to the whole exchange.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| config(crate::error::describe(&e)))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                public_url,
                admin_url,
                default_headers,
                interceptors: self.interceptors,
                timeout: self.timeout,
            }),
        })
    }
}

fn base_url(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid base URL {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("base URL {url:?} is not http(s)"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?}"))?;
    // The value may be a credential: it is never echoed in the message.
    let value =
        HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
    Ok((name, value))
}
