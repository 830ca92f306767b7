//! What browsers need beyond JSON: cookies (session and anti-CSRF, with Kratos's attributes),
//! content negotiation (§5.2), `return_to` checks (§5.7) and the UI URLs flows redirect to.

use crate::config::{Config, SameSite};
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Attributes of one cookie.
#[derive(Debug, Clone)]
pub struct CookieSpec {
    /// Name.
    pub name: String,
    /// `Domain`, or host-only.
    pub domain: Option<String>,
    /// `Path`.
    pub path: String,
    /// `SameSite`.
    pub same_site: SameSite,
    /// `Secure`.
    pub secure: bool,
}

impl CookieSpec {
    /// A `Set-Cookie` value in Go's attribute order: Path; Domain; Expires; Max-Age; HttpOnly; Secure;
    /// SameSite. `max_age` of `None` makes a browser-session cookie; `Some(0)` deletes it.
    pub fn set(
        &self,
        value: &str,
        max_age: Option<i64>,
        now: DateTime<Utc>,
    ) -> Option<HeaderValue> {
        let mut c = format!("{}={}; Path={}", self.name, value, self.path);
        if let Some(domain) = &self.domain {
            c.push_str("; Domain=");
            c.push_str(domain);
        }
        match max_age {
            Some(secs) if secs <= 0 => {
                c.push_str("; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0")
            }
            Some(secs) => {
                let expires = now + chrono::Duration::seconds(secs);
                c.push_str(&format!(
                    "; Expires={}; Max-Age={secs}",
                    expires.format("%a, %d %b %Y %H:%M:%S GMT")
                ));
            }
            None => {}
        }
        c.push_str("; HttpOnly");
        if self.secure {
            c.push_str("; Secure");
        }
        c.push_str(match self.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::Strict => "; SameSite=Strict",
            SameSite::None => "; SameSite=None",
        });
        HeaderValue::from_str(&c).ok()
    }
}

/// Browser-facing settings, resolved from the configuration once.
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    /// The session cookie.
    pub session_cookie: CookieSpec,
    /// Whether the session cookie outlives the browser session.
    pub persistent: bool,
    /// The anti-CSRF cookie (`csrf_token_<sha256(public base)>`).
    pub csrf_cookie: CookieSpec,
    /// Login UI.
    pub login_ui: String,
    /// Registration UI.
    pub registration_ui: String,
    /// Error UI.
    pub error_ui: String,
    /// Settings UI.
    pub settings_ui: String,
    /// `selfservice.flows.settings.after.default_browser_return_url`.
    pub settings_return: Option<String>,
    /// `selfservice.flows.settings.after.<method>.default_browser_return_url`, by method.
    pub settings_method_return: Vec<(&'static str, String)>,
    /// `selfservice.default_browser_return_url`, else the built-in welcome page.
    pub default_return: String,
    /// After logout.
    pub logout_return: String,
    /// `selfservice.allowed_return_urls`, parsed.
    pub allowed_return_urls: Vec<url::Url>,
    /// The public base URL, parsed.
    pub public_base: Option<url::Url>,
}

/// One year, the anti-CSRF cookie's lifetime.
pub const CSRF_MAX_AGE: i64 = 365 * 24 * 3600;

impl BrowserSettings {
    /// Resolves cookie attributes and URLs (`public_base` ends in `/`).
    pub fn new(config: &Config, public_base: &str) -> Self {
        let cookies = &config.cookies;
        let secure = cookies.secure.unwrap_or(!config.dev);
        let sc = &config.session.cookie;
        let session_secure = sc.secure.unwrap_or(secure);
        let csrf_name = format!("csrf_token_{:x}", Sha256::digest(public_base.as_bytes()));
        let ui = |configured: &Option<String>, page: &str| {
            configured
                .clone()
                .unwrap_or_else(|| format!("{public_base}ui/{page}"))
        };
        let flows = &config.selfservice.flows;
        let default_return = config
            .selfservice
            .default_browser_return_url
            .clone()
            .unwrap_or_else(|| format!("{public_base}ui/welcome"));
        Self {
            session_cookie: CookieSpec {
                name: sc.name.clone(),
                domain: sc.domain.clone().or_else(|| cookies.domain.clone()),
                path: sc.path.clone().unwrap_or_else(|| cookies.path.clone()),
                same_site: sc.same_site.unwrap_or(cookies.same_site),
                secure: session_secure,
            },
            persistent: sc.persistent,
            csrf_cookie: CookieSpec {
                name: csrf_name,
                domain: cookies.domain.clone(),
                path: cookies.path.clone(),
                // Browsers refuse `SameSite=None` without `Secure`; Kratos falls back to Lax there.
                same_site: if secure {
                    cookies.same_site
                } else {
                    SameSite::Lax
                },
                secure,
            },
            login_ui: ui(&flows.login.ui_url, "login"),
            registration_ui: ui(&flows.registration.ui_url, "registration"),
            error_ui: ui(&flows.error.ui_url, "error"),
            settings_ui: ui(&flows.settings.ui_url, "settings"),
            settings_return: flows.settings.after.default_browser_return_url.clone(),
            settings_method_return: [
                ("profile", &flows.settings.after.profile),
                ("password", &flows.settings.after.password),
                ("totp", &flows.settings.after.totp),
                ("lookup_secret", &flows.settings.after.lookup_secret),
            ]
            .into_iter()
            .filter_map(|(m, a)| a.default_browser_return_url.clone().map(|u| (m, u)))
            .collect(),
            logout_return: flows
                .logout
                .after
                .default_browser_return_url
                .clone()
                .unwrap_or_else(|| default_return.clone()),
            default_return,
            allowed_return_urls: config
                .selfservice
                .allowed_return_urls
                .iter()
                .filter_map(|u| url::Url::parse(u).ok())
                .collect(),
            public_base: url::Url::parse(public_base).ok(),
        }
    }

    /// Checks `return_to` (§5.7): relative URLs resolve against the default return URL; URLs under
    /// the public base URL are always allowed; others must match an allowed entry by scheme, host
    /// (`*.example.com` wildcards allowed) and whole path segments (see [`path_under`]). With no
    /// allowed entries, `return_to` is ignored. `Err` carries the rejected URL.
    pub fn return_to(&self, requested: Option<&str>) -> Result<Option<String>, String> {
        let Some(requested) = requested.filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let base = url::Url::parse(&self.default_return).ok();
        let parsed = match (url::Url::parse(requested), &base) {
            (Ok(u), _) => u,
            (Err(_), Some(b)) => b.join(requested).map_err(|_| requested.to_owned())?,
            (Err(_), None) => return Err(requested.to_owned()),
        };
        let under = |allowed: &url::Url| {
            let host_ok = match (allowed.host_str(), parsed.host_str()) {
                (Some(a), Some(p)) => match a.strip_prefix("*.") {
                    Some(domain) => p.len() > domain.len() && p.ends_with(&format!(".{domain}")),
                    None => a.eq_ignore_ascii_case(p),
                },
                _ => false,
            };
            allowed.scheme().eq_ignore_ascii_case(parsed.scheme())
                && host_ok
                && allowed.port_or_known_default() == parsed.port_or_known_default()
                && path_under(parsed.path(), allowed.path())
        };
        if self.public_base.as_ref().is_some_and(under) {
            return Ok(Some(parsed.to_string()));
        }
        if self.allowed_return_urls.is_empty() {
            return Ok(None);
        }
        if self.allowed_return_urls.iter().any(under) {
            Ok(Some(parsed.to_string()))
        } else {
            Err(requested.to_owned())
        }
    }
}

/// Whether `path` is `allowed` or below it, segment by segment: `/welcome` allows `/welcome`,
/// `/welcome/` and `/welcome/x`, never `/welcomeevil` (Kratos compares plain string prefixes). An
/// allowed path ending in `/` allows the same; the root allows every path. Both paths come
/// normalised from `url` (dot segments resolved), so `/welcome/../admin` is `/admin` here.
pub fn path_under(path: &str, allowed: &str) -> bool {
    let allowed = allowed.trim_end_matches('/');
    match path.strip_prefix(allowed) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// §5.2: a JSON request prefers `application/json` over HTML, or sends `Content-Type: application/json`.
pub fn is_json_request(headers: &HeaderMap) -> bool {
    let content_type_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    content_type_json
        || prefers_json(
            headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        )
}

/// Whether content negotiation over the offers `text/html`, `text/*`, `*/*`, `application/json`
/// (default `text/*`) picks `application/json`, as Kratos's `gddo/httputil.NegotiateContentType`
/// does: the highest `q` wins, and at equal `q` an exact match beats `type/*`, which beats `*/*`.
/// So axios's `application/json, text/plain, */*` is a JSON request and a browser's navigation
/// `Accept` (`text/html,…,*/*;q=0.8`) is not.
fn prefers_json(accept: &str) -> bool {
    const OFFERS: [&str; 4] = ["text/html", "text/*", "*/*", "application/json"];
    let specs: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let media = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!media.is_empty()).then_some((media, q))
        })
        .collect();
    let (mut best, mut best_q, mut best_wild) = ("text/*", -1.0f32, 3u8);
    for offer in OFFERS {
        for (media, q) in &specs {
            let q = *q;
            if q == 0.0 || q < best_q {
                continue;
            }
            let wild = if media == "*/*" {
                2
            } else if let Some(prefix) = media.strip_suffix('*') {
                if !offer.starts_with(prefix) {
                    continue;
                }
                1
            } else if media == offer {
                0
            } else {
                continue;
            };
            if q > best_q || best_wild > wild {
                (best, best_q, best_wild) = (offer, q, wild);
            }
        }
    }
    best == "application/json"
}

/// Whether the request was made by `fetch`/XHR (for the CSRF hint).
pub fn is_ajax(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m == "cors" || m == "same-origin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_negotiate_like_kratos() {
        assert!(prefers_json("application/json"));
        assert!(!prefers_json(""));
        assert!(!prefers_json("*/*"));
        assert!(!prefers_json(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(prefers_json("application/json, text/plain, */*;q=0.5"));
        assert!(
            prefers_json("application/json, text/plain, */*"),
            "axios's default"
        );
        assert!(
            !prefers_json("text/html, application/json"),
            "text/html is offered first"
        );
        assert!(!prefers_json("application/json;q=0"));
    }

    #[test]
    fn return_to_follows_the_allow_list() {
        let mut config = Config::default();
        config.selfservice.allowed_return_urls = vec![
            "https://app.example.com/welcome".into(),
            "https://*.example.org/".into(),
        ];
        let s = BrowserSettings::new(&config, "http://127.0.0.1:4433/");
        assert_eq!(
            s.return_to(Some("https://app.example.com/welcome/x"))
                .unwrap()
                .as_deref(),
            Some("https://app.example.com/welcome/x")
        );
        assert!(s.return_to(Some("https://app.example.com/other")).is_err());
        for ok in [
            "https://app.example.com/welcome",
            "https://app.example.com/welcome/",
            "https://app.example.com/welcome?x=1",
            "https://app.example.com/welcome#top",
        ] {
            assert!(s.return_to(Some(ok)).unwrap().is_some(), "{ok}");
        }
        for refused in [
            "https://app.example.com/welcomeevil",
            "https://app.example.com/welcome-evil/x",
            "https://app.example.com/welcome/../admin",
            "https://app.example.com/welcome/%2e%2e/admin",
            "https://app.example.com/",
        ] {
            assert!(s.return_to(Some(refused)).is_err(), "{refused}");
        }
        assert!(s.return_to(Some("https://evil.com/")).is_err());
        assert!(
            s.return_to(Some("https://a.example.org/x"))
                .unwrap()
                .is_some()
        );
        assert!(s.return_to(Some("https://example.org.evil.com/")).is_err());
        assert!(
            s.return_to(Some("http://127.0.0.1:4433/ui/welcome"))
                .unwrap()
                .is_some()
        );
        let open = BrowserSettings::new(&Config::default(), "http://127.0.0.1:4433/");
        assert_eq!(
            open.return_to(Some("https://anywhere.example/")).unwrap(),
            None
        );
    }
}

/// Responses browsers get: redirects and cookies.
pub mod respond {
    use crate::state::AppState;
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use chrono::{DateTime, Utc};
    use sesame_core::SessionToken;
    use sesame_core::cookie::CookieRecord;

    /// A redirect with `status` (303 or 302) to `location`.
    pub fn redirect(status: StatusCode, location: &str) -> Response {
        match HeaderValue::from_str(location) {
            Ok(v) => (status, [(header::LOCATION, v)]).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }

    /// `<ui>?flow=<id>`.
    pub fn flow_url(ui: &str, id: impl std::fmt::Display) -> String {
        let sep = if ui.contains('?') { '&' } else { '?' };
        format!("{ui}{sep}flow={id}")
    }

    /// Appends a `Set-Cookie`.
    pub fn set_cookie(res: &mut Response, cookie: Option<HeaderValue>) {
        if let Some(c) = cookie {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
    }

    /// The session cookie for `token`, sealed with its expiry.
    pub fn session_cookie(
        state: &AppState,
        token: &SessionToken,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<HeaderValue> {
        let value = state.cookies.seal(&CookieRecord {
            token: token.clone(),
            expires_at,
        })?;
        let max_age = state
            .browser
            .persistent
            .then(|| (expires_at - now).num_seconds().max(1));
        state.browser.session_cookie.set(&value, max_age, now)
    }

    /// Deletes the session cookie.
    pub fn clear_session_cookie(state: &AppState, now: DateTime<Utc>) -> Option<HeaderValue> {
        state.browser.session_cookie.set("", Some(0), now)
    }

    /// A new anti-CSRF cookie value and its `Set-Cookie`.
    pub fn new_csrf_cookie(state: &AppState, now: DateTime<Utc>) -> (String, Option<HeaderValue>) {
        let token = sesame_core::csrf::generate();
        let header = state
            .browser
            .csrf_cookie
            .set(&token, Some(super::CSRF_MAX_AGE), now);
        (token, header)
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> BrowserSettings {
        let mut config = Config::default();
        config.selfservice.allowed_return_urls = vec![
            "https://app.example.com/welcome".into(),
            "https://*.example.org/app/".into(),
        ];
        BrowserSettings::new(&config, "http://127.0.0.1:4433/")
    }

    fn return_to() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            Just("https://"),
            Just("http://"),
            Just("//"),
            Just(""),
            Just("javascript:")
        ];
        let host = prop_oneof![
            prop::sample::select(vec![
                "app.example.com",
                "a.example.org",
                "example.org",
                "127.0.0.1:4433",
                "app.example.com.evil",
                "app.example.com@evil",
            ])
            .prop_map(str::to_owned),
            "[a-z.:@]{0,12}",
        ];
        let path = prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec!["welcome", "app", "..", "%2e%2e", "welcomeevil", ""])
                    .prop_map(str::to_owned),
                "[a-z%/\\\\?#.]{0,6}",
            ],
            0..5,
        )
        .prop_map(|segments| segments.iter().map(|s| format!("/{s}")).collect::<String>());
        (scheme, host, path).prop_map(|(s, h, p)| format!("{s}{h}{p}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_return_to_is_checked_without_panic(requested in any::<String>()) {
            let _ = settings().return_to(Some(&requested));
        }

        #[test]
        fn accepted_return_to_urls_stay_inside_an_allowed_entry(requested in return_to()) {
            let s = settings();
            if let Ok(Some(accepted)) = s.return_to(Some(&requested)) {
                let url = url::Url::parse(&accepted).unwrap();
                let host = url.host_str().unwrap_or_default();
                let inside = match host {
                    "app.example.com" => url.scheme() == "https" && path_under(url.path(), "/welcome"),
                    "127.0.0.1" => url.port() == Some(4433) && url.scheme() == "http",
                    h if h.ends_with(".example.org") => url.scheme() == "https" && path_under(url.path(), "/app"),
                    _ => false,
                };
                prop_assert!(inside, "{} accepted as {}", requested, accepted);
                prop_assert!(!url.path().split('/').any(|seg| seg == ".." || seg.eq_ignore_ascii_case("%2e%2e")));
                // Accepted once, accepted again as it is (what a flow stores and redirects to).
                prop_assert_eq!(s.return_to(Some(&accepted)), Ok(Some(accepted.clone())));
            }
        }

        #[test]
        fn segment_matching_never_accepts_a_longer_segment(base in "/[a-z]{1,6}", extra in "[a-z0-9.-]{1,6}", rest in "(/[a-z]{0,4}){0,3}") {
            let longer = format!("{base}{extra}{rest}");
            let below = format!("{base}{rest}");
            prop_assert!(!path_under(&longer, &base));
            prop_assert!(path_under(&below, &base));
            prop_assert!(path_under(&below, "/"));
        }
    }
}
