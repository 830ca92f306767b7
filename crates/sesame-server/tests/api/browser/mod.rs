//! Browsers (spec §4.4, §4.5, §5): browser flows answered with redirects or JSON, the anti-CSRF
//! cookie and masked token, the session cookie and its attributes, whoami re-issuing it, and
//! browser logout. The client keeps no cookies: each test reads `Set-Cookie` and sends `Cookie`
//! by hand, so that the attributes can be asserted. Helpers shared by the modules live here.

mod cookies;
mod csrf;
mod flows;
mod logout;
mod submit;
mod throttle;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sesame_core::Clock;
use sesame_testkit::reqwest::{Method, RequestBuilder, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{Backend, TestApp, TestAppBuilder, expect_json};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "a-very-good-passphrase-42";
/// `selfservice.default_browser_return_url` in these tests. It is set rather than left to its
/// default so that the tests pin where browsers go, not what the default is.
const DEFAULT_RETURN: &str = "https://www.example.com/home";
const CSRF_REASON: &str = "Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.";
const NO_COOKIES: &str = "The HTTP Cookie Header was set but was empty.";
const CSRF_COOKIE_MISSING: &str =
    "The HTTP Cookie Header was set but did not include the anti-CSRF cookie.";
const CSRF_TOKEN_MISSING: &str = "The anti-CSRF cookie was found but the CSRF token was not included in the HTTP request body (csrf_token) nor in the HTTP Header (X-CSRF-Token).";
const CSRF_MISMATCH: &str = "The HTTP Cookie Header was set and a CSRF token was sent but they do not match. We recommend deleting all cookies for this domain and retrying the flow.";
const ONE_YEAR: i64 = 365 * 24 * 3600;
const ONE_DAY: i64 = 24 * 3600;

/// A server whose default browser return URL is [`DEFAULT_RETURN`].
fn builder(backend: Backend) -> TestAppBuilder {
    TestApp::builder(backend).env("SELFSERVICE_DEFAULT_BROWSER_RETURN_URL", DEFAULT_RETURN)
}

async fn spawn(backend: Backend) -> TestApp {
    builder(backend).spawn().await
}

// --- cookies ------------------------------------------------------------------------------------

/// One `Set-Cookie` header, split into its name, value and attributes.
#[derive(Debug, Clone)]
struct SetCookie {
    raw: String,
    name: String,
    value: String,
    attributes: Vec<String>,
}

impl SetCookie {
    fn parse(raw: &str) -> Self {
        let mut parts = raw.split("; ");
        let (name, value) = parts.next().unwrap().split_once('=').unwrap();
        Self {
            raw: raw.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            attributes: parts.map(str::to_owned).collect(),
        }
    }

    /// The value of `Key=value`, if present.
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }

    /// Whether a flag (`HttpOnly`, `Secure`) is present.
    fn has(&self, flag: &str) -> bool {
        self.attributes.iter().any(|a| a == flag)
    }

    /// `Max-Age` as a number.
    fn max_age(&self) -> i64 {
        self.attr("Max-Age")
            .unwrap_or_else(|| panic!("no Max-Age: {}", self.raw))
            .parse()
            .unwrap()
    }

    /// What a browser sends back: `name=value`.
    fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// Every `Set-Cookie` of a response.
fn set_cookies(res: &Response) -> Vec<SetCookie> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| SetCookie::parse(v.to_str().unwrap()))
        .collect()
}

/// The one `Set-Cookie` named `name`.
fn cookie_named(res: &Response, name: &str) -> SetCookie {
    let found: Vec<SetCookie> = set_cookies(res)
        .into_iter()
        .filter(|c| c.name == name)
        .collect();
    assert_eq!(found.len(), 1, "expected one {name} cookie: {found:?}");
    found.into_iter().next().unwrap()
}

/// `csrf_token_` + hex SHA-256 of the public base URL (spec §5.5).
fn csrf_cookie_name(app: &TestApp) -> String {
    format!(
        "csrf_token_{:x}",
        Sha256::digest(format!("{}/", app.public_url).as_bytes())
    )
}

/// Go's `Expires` rendering of `now + secs`.
fn expires_in(app: &TestApp, secs: i64) -> String {
    (app.clock.now() + chrono::Duration::seconds(secs))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// The session token a sealed session cookie carries (the testkit's `secrets.cookie`).
fn unseal(cookie: &SetCookie) -> String {
    sesame_testkit::cookie_sealer(&cookie.name)
        .open(&cookie.value)
        .unwrap_or_else(|| panic!("the session cookie does not open: {}", cookie.raw))
        .token
        .expose()
        .to_owned()
}

/// Asserts the anti-CSRF cookie's attributes in the dev defaults.
fn assert_dev_csrf_cookie(app: &TestApp, cookie: &SetCookie) {
    assert_eq!(cookie.name, csrf_cookie_name(app));
    assert_eq!(
        cookie.raw,
        format!(
            "{}={}; Path=/; Expires={}; Max-Age=31536000; HttpOnly; SameSite=Lax",
            cookie.name,
            cookie.value,
            expires_in(app, ONE_YEAR)
        )
    );
    let real = STANDARD.decode(&cookie.value).unwrap();
    assert_eq!(real.len(), 32, "a real token is 32 random bytes");
}

/// Asserts the session cookie's attributes in the dev defaults (persistent, 24h).
fn assert_dev_session_cookie(app: &TestApp, cookie: &SetCookie) {
    assert_eq!(cookie.name, "ory_kratos_session");
    let max_age = cookie.max_age();
    assert!((ONE_DAY - 1..=ONE_DAY).contains(&max_age), "{}", cookie.raw);
    assert_eq!(
        cookie.raw,
        format!(
            "ory_kratos_session={}; Path=/; Expires={}; Max-Age={max_age}; HttpOnly; SameSite=Lax",
            cookie.value,
            expires_in(app, max_age)
        )
    );
}

/// `GET /sessions/whoami` with `cookie` as the whole `Cookie` header.
async fn whoami_with(app: &TestApp, cookie: &str) -> Response {
    app.public(Method::GET, "/sessions/whoami")
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

// --- flows --------------------------------------------------------------------------------------

/// The value of the input node `name`.
fn node_value(flow: &Value, name: &str) -> String {
    flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {flow}"))["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The masked token of a flow's `csrf_token` node.
fn csrf_token(flow: &Value) -> String {
    node_value(flow, "csrf_token")
}

/// `<base>?flow=<id>` → `<id>`.
fn flow_param<'a>(location: &'a str, base: &str) -> &'a str {
    location
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix("?flow="))
        .unwrap_or_else(|| panic!("{location} is not {base}?flow=…"))
}

fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// `GET /self-service/<kind>/browser` as a single-page app (`Accept: application/json`).
fn init_json(app: &TestApp, kind: &str, cookie: Option<&str>) -> RequestBuilder {
    let req = app
        .public(Method::GET, &format!("/self-service/{kind}/browser"))
        .header("Accept", "application/json");
    match cookie {
        Some(c) => req.header("Cookie", c),
        None => req,
    }
}

/// A new browser flow as JSON and the anti-CSRF cookie it is bound to.
async fn browser_flow(app: &TestApp, kind: &str) -> (Value, SetCookie) {
    let res = init_json(app, kind, None).send().await.unwrap();
    let cookie = cookie_named(&res, &csrf_cookie_name(app));
    (expect_json(res, StatusCode::OK).await, cookie)
}

/// `POST /self-service/<kind>?flow=<id>` with `cookie` as the whole `Cookie` header.
fn submit(app: &TestApp, kind: &str, flow: &Value, cookie: Option<&str>) -> RequestBuilder {
    let id = flow["id"].as_str().unwrap();
    let req = app.public(Method::POST, &format!("/self-service/{kind}?flow={id}"));
    match cookie {
        Some(c) => req.header("Cookie", c),
        None => req,
    }
}

/// An HTML form body (`application/x-www-form-urlencoded`).
fn form(req: RequestBuilder, pairs: &[(&str, &str)]) -> RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    req.header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

fn password_login(flow: &Value, identifier: &str, password: &str) -> Value {
    json!({
        "method": "password",
        "identifier": identifier,
        "password": password,
        "csrf_token": csrf_token(flow),
    })
}

/// Registers `email` through the API and returns the identity id.
async fn user(app: &TestApp, email: &str) -> String {
    let body = app.register(email, PASSWORD).await;
    body["identity"]["id"].as_str().unwrap().to_owned()
}

/// Logs `email` in as a single-page app; returns the session cookie and the success body.
async fn browser_login(app: &TestApp, email: &str) -> (SetCookie, Value) {
    let (flow, csrf) = browser_flow(app, "login").await;
    let res = submit(app, "login", &flow, Some(&csrf.pair()))
        .json(&password_login(&flow, email, PASSWORD))
        .send()
        .await
        .unwrap();
    let cookie = cookie_named(&res, "ory_kratos_session");
    (cookie, expect_json(res, StatusCode::OK).await)
}

/// A 403 `security_csrf_violation` envelope with `reject_reason`.
async fn assert_csrf_violation(res: Response, reject_reason: &str) {
    assert_eq!(res.headers()["ory-error-id"], "security_csrf_violation");
    assert_eq!(res.headers()["content-type"], "application/json");
    let body = expect_json(res, StatusCode::FORBIDDEN).await;
    let error = &body["error"];
    assert_eq!(error["id"], "security_csrf_violation");
    assert_eq!(error["code"], 403);
    assert_eq!(error["status"], "Forbidden");
    assert_eq!(error["reason"], CSRF_REASON);
    assert_eq!(
        error["message"],
        "the request was rejected to protect you from Cross-Site-Request-Forgery"
    );
    assert_eq!(error["details"]["reject_reason"], reject_reason);
    assert_eq!(
        error["details"]["docs"],
        "https://www.ory.com/docs/troubleshooting/csrf"
    );
    assert!(
        !error["details"]["hint"].as_str().unwrap().is_empty(),
        "{body}"
    );
}

/// The global message ids of a flow.
fn message_ids(flow: &Value) -> Vec<i64> {
    flow["ui"]["messages"]
        .as_array()
        .map(|m| m.iter().map(|m| m["id"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}
