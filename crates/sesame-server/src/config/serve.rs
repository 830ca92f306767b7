//! `serve`: the public and admin listeners, and CORS on the public one.

use serde::{Deserialize, Serialize};
use sesame_core::duration::GoDuration;
use std::time::Duration;

/// `request_header_timeout`'s default: Kratos's Go server allows 5 s for a request's head.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// `idle_timeout`'s default: Kratos's Go server keeps an idle connection for 120 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// `max_connections`'s default, per port.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4096;

/// `serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Serve {
    /// `serve.public`: host default `0.0.0.0` (`127.0.0.1` with `--dev`), port default 4433, CORS off.
    pub public: PublicEndpoint,
    /// `serve.admin`: host default `127.0.0.1` (Kratos: `0.0.0.0`; the admin API has no auth), port 4434.
    pub admin: ServeEndpoint,
}

impl Default for Serve {
    fn default() -> Self {
        Self {
            public: PublicEndpoint::default(),
            admin: ServeEndpoint {
                host: "127.0.0.1".into(),
                port: 4434,
                ..ServeEndpoint::default()
            },
        }
    }
}

/// One listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServeEndpoint {
    /// `host`: interface to bind.
    pub host: String,
    /// `port`: 0 picks a free port.
    pub port: u16,
    /// `base_url`: the URL clients reach this port at; default `http(s)://<host>:<port>/`.
    pub base_url: Option<String>,
    /// `request_header_timeout`: default `5s` (Kratos's). See [`Connections`].
    pub request_header_timeout: GoDuration,
    /// `idle_timeout`: default `120s` (Kratos's). See [`Connections`].
    pub idle_timeout: GoDuration,
    /// `max_connections`: default 4096, lowered to fit the open-file limit. See [`Connections`].
    pub max_connections: u32,
}

impl Default for ServeEndpoint {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 0,
            base_url: None,
            request_header_timeout: GoDuration(DEFAULT_HEADER_TIMEOUT),
            idle_timeout: GoDuration(DEFAULT_IDLE_TIMEOUT),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServeEndpoint {
    /// How this port treats its connections.
    pub fn connections(&self) -> Connections {
        Connections {
            request_header_timeout: self.request_header_timeout.0,
            idle_timeout: self.idle_timeout.0,
            max_connections: self.max_connections,
        }
    }
}

/// How a port treats its connections (Kratos has no keys for these; its Go server has fixed
/// timeouts, which are the defaults here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// `request_header_timeout`: the time a connection has to send a whole request head (request
    /// line and headers), counted from its opening, and for each later request from its first
    /// byte. A connection that takes longer is closed without an answer. Default `5s`.
    pub request_header_timeout: Duration,
    /// `idle_timeout`: the time a kept-alive connection may wait for its next request before it
    /// is closed. Default `120s`, longer than the keep-alive timeouts of common reverse proxies,
    /// so that a proxy never sends a request on a connection this port is closing.
    pub idle_timeout: Duration,
    /// `max_connections`: connections this port keeps open at once. One more is answered `503`
    /// with `Retry-After` and closed, instead of waiting for a turn. Default 4096, lowered at
    /// start when the open-file limit cannot hold both ports' connections.
    pub max_connections: u32,
}

/// `serve.public`: a listener plus CORS, which only the public port has in Kratos (so
/// `serve.admin.cors` is warned about as an unknown key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PublicEndpoint {
    /// `host`: interface to bind; default `0.0.0.0`, or `127.0.0.1` with `--dev` (whose cookies are
    /// not `Secure`, so it serves this machine only unless a host is set).
    pub host: Option<String>,
    /// `port`: default 4433; 0 picks a free port.
    pub port: u16,
    /// `base_url`: the URL clients reach this port at; default `http(s)://<host>:<port>/`.
    pub base_url: Option<String>,
    /// `cors`: off by default.
    pub cors: Cors,
    /// `trusted_proxies`: CIDRs (or addresses) of the reverse proxies whose forwarding headers
    /// (`X-Forwarded-For`, `X-Real-IP`, `True-Client-IP`, Cloudflare's) name the client's IP and
    /// location for session devices; default loopback only. Other peers are recorded as they are.
    pub trusted_proxies: Vec<String>,
    /// `request_header_timeout`: default `5s` (Kratos's). See [`Connections`].
    pub request_header_timeout: GoDuration,
    /// `idle_timeout`: default `120s` (Kratos's). See [`Connections`].
    pub idle_timeout: GoDuration,
    /// `max_connections`: default 4096, lowered to fit the open-file limit. See [`Connections`].
    pub max_connections: u32,
}

impl Default for PublicEndpoint {
    fn default() -> Self {
        Self {
            host: None,
            port: 4433,
            base_url: None,
            cors: Cors::default(),
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1/128".into()],
            request_header_timeout: GoDuration(DEFAULT_HEADER_TIMEOUT),
            idle_timeout: GoDuration(DEFAULT_IDLE_TIMEOUT),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl PublicEndpoint {
    /// The listener part (host, port, base URL); `dev` picks the default host.
    pub fn endpoint(&self, dev: bool) -> ServeEndpoint {
        let default_host = if dev { "127.0.0.1" } else { "0.0.0.0" };
        ServeEndpoint {
            host: self.host.clone().unwrap_or_else(|| default_host.to_owned()),
            port: self.port,
            base_url: self.base_url.clone(),
            request_header_timeout: self.request_header_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
        }
    }
}

/// `serve.public.cors`, with Kratos's defaults (its config schema and `rs/cors`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Cors {
    /// `enabled`: default false; then no CORS headers are sent and `OPTIONS` is routed like any method.
    pub enabled: bool,
    /// `allowed_origins`: default `["*"]` (every origin). Exact origins (`https://app.example.com`,
    /// compared without case) or one `*` bounded by a registrable domain (`https://*.example.com`).
    /// The request's `Origin` is echoed, never `*`.
    pub allowed_origins: Vec<String>,
    /// `allowed_methods`: default `POST`, `GET`, `PUT`, `PATCH`, `DELETE`.
    pub allowed_methods: Vec<String>,
    /// `allowed_headers`: default `Authorization`, `Content-Type`, `Max-Age`, `X-Session-Token`,
    /// `X-XSRF-TOKEN`, `X-CSRF-TOKEN` (`Origin` is always allowed; `*` allows any).
    pub allowed_headers: Vec<String>,
    /// `exposed_headers`: default `Content-Type`.
    pub exposed_headers: Vec<String>,
    /// `allow_credentials`: default true (`Access-Control-Allow-Credentials: true`).
    pub allow_credentials: bool,
    /// `max_age`: seconds a browser may cache a preflight answer; default 0 (no header).
    pub max_age: i64,
    /// `options_passthrough`: default false; true routes preflights after adding the headers
    /// instead of answering them with 204.
    pub options_passthrough: bool,
    /// `debug`: default false; true logs (at info) why a cross-origin request got no CORS headers.
    pub debug: bool,
}

impl Default for Cors {
    fn default() -> Self {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            enabled: false,
            allowed_origins: strings(&["*"]),
            allowed_methods: strings(&["POST", "GET", "PUT", "PATCH", "DELETE"]),
            allowed_headers: strings(&[
                "Authorization",
                "Content-Type",
                "Max-Age",
                "X-Session-Token",
                "X-XSRF-TOKEN",
                "X-CSRF-TOKEN",
            ]),
            exposed_headers: strings(&["Content-Type"]),
            allow_credentials: true,
            max_age: 0,
            options_passthrough: false,
            debug: false,
        }
    }
}
