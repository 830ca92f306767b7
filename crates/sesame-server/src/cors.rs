//! CORS on the public port (`serve.public.cors`), answering the way Kratos's `rs/cors` middleware
//! does, so a single-page app can call whoami with `credentials: 'include'`.
//!
//! Written here rather than with tower-http's `CorsLayer` because that layer differs from rs/cors
//! where browsers and SDK tests can see it: it answers every `OPTIONS` as a preflight (rs/cors only
//! those with `Access-Control-Request-Method`; the others are routed), answers 200 instead of 204,
//! sends `Access-Control-Allow-Credentials` and the method/header lists to origins it refuses, and
//! never refuses a preflight for a header outside `allowed_headers`.

use crate::config::Cors;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// A `serve.public.cors` value that cannot work, with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfigError {
    /// The dotted key (`serve.public.cors.allowed_origins` …).
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

const ORIGINS_KEY: &str = "serve.public.cors.allowed_origins";

fn err(key: &'static str, message: String) -> CorsConfigError {
    CorsConfigError { key, message }
}

/// The checked CORS settings of the public port.
#[derive(Debug)]
pub struct CorsPolicy {
    origins: Origins,
    /// Upper-cased; an empty list means rs/cors's default (GET, POST, HEAD).
    methods: Vec<String>,
    headers: AllowedHeaders,
    expose: Option<HeaderValue>,
    credentials: bool,
    max_age: Option<HeaderValue>,
    passthrough: bool,
    debug: bool,
}

#[derive(Debug)]
enum Origins {
    Any,
    Listed {
        /// Lower-cased `scheme://host[:port]`.
        exact: Vec<String>,
        patterns: Vec<Pattern>,
    },
}

/// One `*` in an origin: the text around it, lower-cased.
#[derive(Debug)]
struct Pattern {
    prefix: String,
    suffix: String,
}

#[derive(Debug)]
enum AllowedHeaders {
    Any,
    /// Lower-cased, `origin` included (rs/cors always allows it: some browsers request it).
    Listed(Vec<String>),
}

impl Pattern {
    /// rs/cors only checks prefix and suffix, so `https://*.example.com` would also let in the
    /// non-origin `https://evil.com/.example.com`; here the `*` stands for host characters only.
    fn matches(&self, origin: &str) -> bool {
        let (o, p, s) = (
            origin.as_bytes(),
            self.prefix.as_bytes(),
            self.suffix.as_bytes(),
        );
        if o.len() <= p.len() + s.len()
            || !o[..p.len()].eq_ignore_ascii_case(p)
            || !o[o.len() - s.len()..].eq_ignore_ascii_case(s)
        {
            return false;
        }
        let middle = &o[p.len()..o.len() - s.len()];
        middle
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
            && middle.first() != Some(&b'.')
            && middle.last() != Some(&b'.')
            && !middle.windows(2).any(|w| w == b"..")
    }
}

impl CorsPolicy {
    /// Checks `serve.public.cors` and compiles it; the error names the key at fault.
    pub fn new(cors: &Cors) -> Result<Self, CorsConfigError> {
        Ok(Self {
            origins: parse_origins(&cors.allowed_origins)?,
            methods: cors
                .allowed_methods
                .iter()
                .map(|m| {
                    let upper = m.trim().to_ascii_uppercase();
                    Method::from_bytes(upper.as_bytes())
                        .map(|_| upper)
                        .map_err(|_| {
                            err(
                                "serve.public.cors.allowed_methods",
                                format!("{m:?} is not an HTTP method"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
            headers: parse_allowed_headers(&cors.allowed_headers)?,
            expose: header_list(&cors.exposed_headers, "serve.public.cors.exposed_headers")?,
            credentials: cors.allow_credentials,
            // rs/cors: a positive max_age is sent, a negative one sends 0, zero sends nothing.
            max_age: match cors.max_age {
                0 => None,
                n => Some(HeaderValue::from(n.max(0))),
            },
            passthrough: cors.options_passthrough,
            debug: cors.debug,
        })
    }

    /// Whether `origin` (the request's `Origin` header) may make credentialed requests.
    pub fn allows_origin(&self, origin: &str) -> bool {
        match &self.origins {
            Origins::Any => true,
            Origins::Listed { exact, patterns } => {
                exact.iter().any(|o| o.eq_ignore_ascii_case(origin))
                    || patterns.iter().any(|p| p.matches(origin))
            }
        }
    }

    /// Whether every origin is allowed (`*`).
    pub fn allows_any_origin(&self) -> bool {
        matches!(self.origins, Origins::Any)
    }

    fn allows_method(&self, method: &str) -> bool {
        // rs/cors allows OPTIONS always, and an empty list means the "simple" methods.
        method.eq_ignore_ascii_case("OPTIONS")
            || if self.methods.is_empty() {
                ["GET", "POST", "HEAD"]
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(method))
            } else {
                self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
            }
    }

    fn allows_header(&self, name: &str) -> bool {
        match &self.headers {
            AllowedHeaders::Any => true,
            AllowedHeaders::Listed(list) => list.iter().any(|h| h.eq_ignore_ascii_case(name)),
        }
    }

    /// The allowed origin of this request, when there is one.
    fn allowed_origin<'a>(&self, headers: &'a HeaderMap, kind: &str) -> Option<&'a HeaderValue> {
        let value = headers.get(header::ORIGIN)?;
        let origin = value.to_str().unwrap_or_default();
        if origin.is_empty() {
            return None;
        }
        if !self.allows_origin(origin) {
            self.log(kind, "origin not allowed", origin);
            return None;
        }
        Some(value)
    }

    fn log(&self, kind: &str, why: &str, what: &str) {
        if self.debug {
            tracing::info!(kind, why, what, "CORS headers not added");
        }
    }

    /// rs/cors's `handlePreflight`: the headers of the answer to an `OPTIONS` preflight.
    fn preflight(&self, req: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = vec![(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        )];
        let Some(origin) = self.allowed_origin(req, "preflight") else {
            return out;
        };
        let method = req
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim();
        if !self.allows_method(method) {
            self.log("preflight", "method not allowed", method);
            return out;
        }
        let requested: Vec<&str> = req
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(refused) = requested.iter().find(|h| !self.allows_header(h)) {
            self.log("preflight", "header not allowed", refused);
            return out;
        }
        out.push((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()));
        if let Ok(m) = HeaderValue::from_str(&method.to_ascii_uppercase()) {
            out.push((header::ACCESS_CONTROL_ALLOW_METHODS, m));
        }
        let allow_headers = Some(requested.join(", ").to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .and_then(|h| HeaderValue::from_str(&h).ok());
        if let Some(h) = allow_headers {
            out.push((header::ACCESS_CONTROL_ALLOW_HEADERS, h));
        }
        if self.credentials {
            out.push((
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ));
        }
        if let Some(max_age) = &self.max_age {
            out.push((header::ACCESS_CONTROL_MAX_AGE, max_age.clone()));
        }
        out
    }

    /// rs/cors's `handleActualRequest`: the headers added to the routed answer.
    fn actual(&self, method: &Method, req: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = vec![(header::VARY, HeaderValue::from_static("Origin"))];
        let Some(origin) = self.allowed_origin(req, "request") else {
            return out;
        };
        if !self.allows_method(method.as_str()) {
            self.log("request", "method not allowed", method.as_str());
            return out;
        }
        out.push((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()));
        if let Some(expose) = &self.expose {
            out.push((header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone()));
        }
        if self.credentials {
            out.push((
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ));
        }
        out
    }
}

/// Wraps the whole public router (fallback included) in the CORS layer. Only called when
/// `serve.public.cors.enabled`, so a disabled CORS costs nothing.
pub fn install(router: Router, policy: Arc<CorsPolicy>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(policy, cors))
}

async fn cors(State(policy): State<Arc<CorsPolicy>>, req: Request, next: Next) -> Response {
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .is_some_and(|v| !v.is_empty());
    let (added, mut res) = if is_preflight {
        let added = policy.preflight(req.headers());
        // Preflights stop here (rs/cors): routes and their auth never see them.
        let res = if policy.passthrough {
            next.run(req).await
        } else {
            StatusCode::NO_CONTENT.into_response()
        };
        (added, res)
    } else {
        let added = policy.actual(req.method(), req.headers());
        (added, next.run(req).await)
    };
    let headers = res.headers_mut();
    for (name, value) in added {
        if name == header::VARY {
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
    }
    res
}

fn parse_origins(list: &[String]) -> Result<Origins, CorsConfigError> {
    // Kratos: an empty list, like `*`, allows every origin.
    if list.is_empty() || list.iter().any(|o| o.trim() == "*") {
        return Ok(Origins::Any);
    }
    let mut exact = Vec::new();
    let mut patterns = Vec::new();
    for raw in list {
        let origin = raw.trim().to_ascii_lowercase();
        match origin.matches('*').count() {
            0 => {
                check_origin(raw, &origin)?;
                exact.push(origin);
            }
            1 => {
                check_origin(raw, &origin.replace('*', WILDCARD_LABEL))?;
                check_bounded(raw, &origin)?;
                let (prefix, suffix) = origin.split_once('*').unwrap_or_default();
                patterns.push(Pattern {
                    prefix: prefix.to_owned(),
                    suffix: suffix.to_owned(),
                });
            }
            _ => {
                return Err(err(
                    ORIGINS_KEY,
                    format!("{raw:?} has more than one `*` (one wildcard per origin)"),
                ));
            }
        }
    }
    Ok(Origins::Listed { exact, patterns })
}

/// Stands in for `*` while a pattern is parsed as a URL.
const WILDCARD_LABEL: &str = "sesame-wildcard";

/// An origin is `scheme://host[:port]` exactly as a browser sends it; anything else never matches.
fn check_origin(raw: &str, candidate: &str) -> Result<(), CorsConfigError> {
    let shape = "must be an origin: scheme://host[:port], e.g. https://app.example.com";
    let url = url::Url::parse(candidate)
        .map_err(|e| err(ORIGINS_KEY, format!("{raw:?} {shape} ({e})")))?;
    let host = url.host_str().filter(|h| !h.is_empty());
    let Some(host) = host else {
        return Err(err(ORIGINS_KEY, format!("{raw:?} {shape} (no host)")));
    };
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || !matches!(url.path(), "" | "/")
    {
        return Err(err(ORIGINS_KEY, format!("{raw:?} {shape}")));
    }
    let sent = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    if !sent.eq_ignore_ascii_case(candidate) {
        return Err(err(
            ORIGINS_KEY,
            format!(
                "{raw:?} never matches: browsers send this origin as {:?}",
                sent.replace(WILDCARD_LABEL, "*")
            ),
        ));
    }
    Ok(())
}

/// Kratos (ory/x `corsx.ClassifyOrigin`) honours a wildcard only when the domain after the label
/// holding the `*` is registrable (an eTLD+1 or below): `https://*.example.com` is fine, but
/// `https://*.com`, `https://*example.com` or `https://*.vercel.app` would match hosts anyone can
/// register. Kratos silently skips such patterns; Sesame refuses to start, which is easier to debug.
fn check_bounded(raw: &str, pattern: &str) -> Result<(), CorsConfigError> {
    let after = pattern.rfind('*').map_or("", |i| &pattern[i..]);
    let base = after.split_once('.').map_or("", |(_, base)| base);
    let base = base.split_once(':').map_or(base, |(host, _)| host);
    if !base.is_empty() && psl::domain(base.as_bytes()).is_some() {
        return Ok(());
    }
    let what = if base.is_empty() {
        "no domain follows the `*`".to_owned()
    } else {
        format!("{base:?} is a public suffix anyone can register names under")
    };
    Err(err(
        ORIGINS_KEY,
        format!(
            "{raw:?} is an unsafe wildcard: {what}; use one bounded by your own domain, e.g. https://*.example.com"
        ),
    ))
}

fn parse_allowed_headers(list: &[String]) -> Result<AllowedHeaders, CorsConfigError> {
    if list.iter().any(|h| h.trim() == "*") {
        return Ok(AllowedHeaders::Any);
    }
    if list.is_empty() {
        // rs/cors's default when the list is empty.
        return Ok(AllowedHeaders::Listed(
            ["origin", "accept", "content-type", "x-requested-with"]
                .map(str::to_owned)
                .to_vec(),
        ));
    }
    let mut names = Vec::with_capacity(list.len() + 1);
    for h in list {
        let name = HeaderName::from_bytes(h.trim().as_bytes()).map_err(|_| {
            err(
                "serve.public.cors.allowed_headers",
                format!("{h:?} is not a header name"),
            )
        })?;
        names.push(name.as_str().to_owned());
    }
    names.push("origin".to_owned());
    Ok(AllowedHeaders::Listed(names))
}

fn header_list(list: &[String], key: &'static str) -> Result<Option<HeaderValue>, CorsConfigError> {
    let mut names = Vec::with_capacity(list.len());
    for h in list {
        HeaderName::from_bytes(h.trim().as_bytes())
            .map_err(|_| err(key, format!("{h:?} is not a header name")))?;
        names.push(canonical(h.trim()));
    }
    if names.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(&names.join(", "))
        .map(Some)
        .map_err(|e| err(key, e.to_string()))
}

/// Go's `http.CanonicalHeaderKey`, which rs/cors applies to exposed headers: `content-type` →
/// `Content-Type`.
fn canonical(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str]) -> Result<CorsPolicy, CorsConfigError> {
        CorsPolicy::new(&Cors {
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            ..Cors::default()
        })
    }

    #[test]
    fn a_star_or_an_empty_list_allows_every_origin() {
        for list in [&["*"][..], &[], &["https://a.example.com", "*"]] {
            let p = policy(list).unwrap();
            assert!(p.allows_origin("https://anything.test"));
            assert!(p.allows_origin("null"));
        }
    }

    #[test]
    fn exact_origins_match_without_regard_to_case() {
        let p = policy(&["https://App.Example.com", "http://localhost:3000"]).unwrap();
        assert!(p.allows_origin("https://app.example.com"));
        assert!(p.allows_origin("HTTPS://APP.EXAMPLE.COM"));
        assert!(p.allows_origin("http://localhost:3000"));
        assert!(!p.allows_origin("http://localhost:3001"));
        assert!(!p.allows_origin("http://app.example.com"));
        assert!(!p.allows_origin("https://app.example.com.evil.com"));
    }

    #[test]
    fn a_wildcard_matches_subdomains_of_its_own_domain_only() {
        let p = policy(&["https://*.example.com"]).unwrap();
        assert!(p.allows_origin("https://a.example.com"));
        assert!(p.allows_origin("https://a.b.example.com"));
        assert!(p.allows_origin("https://A-1.Example.com"));
        for refused in [
            "https://example.com",
            "http://a.example.com",
            "https://evil.com/.example.com",
            "https://evil.com?.example.com",
            "https://u@x.example.com",
            "https://.example.com",
            "https://a..example.com",
            "https://aexample.com",
            "https://a.example.com.evil.com",
            "https://a.example.com:8443",
        ] {
            assert!(!p.allows_origin(refused), "{refused}");
        }
        let p = policy(&["https://*.example.com:8443", "https://app-*.example.co.uk"]).unwrap();
        assert!(p.allows_origin("https://a.example.com:8443"));
        assert!(!p.allows_origin("https://a.example.com"));
        assert!(p.allows_origin("https://app-pr-12.example.co.uk"));
        assert!(!p.allows_origin("https://api.example.co.uk"));
    }

    #[test]
    fn origins_that_could_never_match_are_refused_with_the_key() {
        for (bad, says) in [
            ("https://*.*.example.com", "more than one `*`"),
            ("not a url", "must be an origin"),
            ("example.com", "must be an origin"),
            ("https://example.com/app", "must be an origin"),
            ("https://example.com/", "\"https://example.com\""),
            ("https://example.com:443", "\"https://example.com\""),
            ("https://*.example.com/", "\"https://*.example.com\""),
            ("https://*.com", "public suffix"),
            ("https://*example.com", "public suffix"),
            ("https://*.vercel.app", "public suffix"),
            ("https://*.co.uk", "public suffix"),
            ("https://*", "no domain follows"),
            ("https://example.*", "no domain follows"),
        ] {
            let e = policy(&[bad]).unwrap_err();
            assert_eq!(e.key, "serve.public.cors.allowed_origins", "{bad}");
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
        for fine in [
            "capacitor://localhost",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "https://xn--bcher-kva.example",
        ] {
            policy(&[fine]).unwrap_or_else(|e| panic!("{fine}: {}", e.message));
        }
    }

    #[test]
    fn methods_and_headers_are_checked_and_normalised() {
        let p = CorsPolicy::new(&Cors {
            allowed_methods: vec!["get".into(), "post".into()],
            allowed_headers: vec!["X-Session-Token".into()],
            exposed_headers: vec![
                "content-type".into(),
                "x-kratos-authenticated-identity-id".into(),
            ],
            max_age: 600,
            ..Cors::default()
        })
        .unwrap();
        assert!(p.allows_method("GET") && p.allows_method("post") && p.allows_method("OPTIONS"));
        assert!(!p.allows_method("DELETE"));
        assert!(p.allows_header("x-session-token") && p.allows_header("Origin"));
        assert!(!p.allows_header("x-other"));
        assert_eq!(
            p.expose.as_ref().unwrap(),
            "Content-Type, X-Kratos-Authenticated-Identity-Id"
        );
        assert_eq!(p.max_age.as_ref().unwrap(), "600");
        let bad = |cors: Cors| CorsPolicy::new(&cors).unwrap_err().key;
        assert_eq!(
            bad(Cors {
                allowed_methods: vec!["GE T".into()],
                ..Cors::default()
            }),
            "serve.public.cors.allowed_methods"
        );
        assert_eq!(
            bad(Cors {
                allowed_headers: vec!["X:Y".into()],
                ..Cors::default()
            }),
            "serve.public.cors.allowed_headers"
        );
        assert_eq!(
            bad(Cors {
                exposed_headers: vec!["bad header".into()],
                ..Cors::default()
            }),
            "serve.public.cors.exposed_headers"
        );
    }
}
