//! The built-in self-service UI: server-rendered HTML (minijinja, templates embedded from
//! `templates/`, HTML autoescaping on) for sign-in, sign-up, account settings, the welcome page and
//! the error page, and the headers every page carries. Handlers live in `routes::ui`; this module
//! only renders.

pub mod form;
pub mod hints;
pub mod node;
pub mod pages;

use crate::browser::BrowserSettings;
use crate::state::AppState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;
use std::sync::LazyLock;

/// The sign-in, sign-up and settings page: a flow's forms.
pub const FLOW: &str = "flow.html";
/// The welcome page.
pub const WELCOME: &str = "welcome.html";
/// The error page.
pub const ERROR: &str = "error.html";

/// The stylesheet served at `/ui/style.css`.
pub const STYLESHEET: &str = include_str!("../../templates/style.css");

/// The icon served at `/ui/favicon.svg`: a keyhole on the stylesheet's `--primary` blue.
pub const FAVICON_SVG: &str = include_str!("../../templates/favicon.svg");

/// The icon served at `/favicon.ico`: `favicon.svg` rendered at 16, 32 and 48 pixels, as PNG
/// images in one ICO file (what browsers ask for when a page names no icon).
pub const FAVICON_ICO: &[u8] = include_bytes!("../../templates/favicon.ico");

const TEMPLATES: [(&str, &str); 5] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    (FLOW, include_str!("../../templates/flow.html")),
    (WELCOME, include_str!("../../templates/welcome.html")),
    (ERROR, include_str!("../../templates/error.html")),
];

/// Parsed once, on first use; the templates do not depend on the configuration.
static ENVIRONMENT: LazyLock<Result<Environment<'static>, minijinja::Error>> =
    LazyLock::new(environment);

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    // Every template is HTML, whatever its name.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_formatter(
        |out, state, value| match (state.auto_escape(), value.as_str()) {
            (AutoEscape::Html, Some(s)) if !value.is_safe() => out
                .write_str(&escape_html(s))
                .map_err(minijinja::Error::from),
            _ => minijinja::escape_formatter(out, state, value),
        },
    );
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Escapes text for HTML content and quoted attribute values. Unlike minijinja's default it leaves
/// `/` alone, so URLs in `href` and `action` stay readable; `/` cannot end a quoted value.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders `template` with `view` as its context.
pub fn render<S: Serialize>(template: &str, view: &S) -> Result<String, minijinja::Error> {
    let env = ENVIRONMENT
        .as_ref()
        .map_err(|e| minijinja::Error::new(e.kind(), e.to_string()))?;
    env.get_template(template)?
        .render(Value::from(minijinja::value::Serde(view)))
}

/// `Content-Security-Policy` of the pages: nothing but this origin, no framing, and forms may only
/// post to the public base URL. Browsers also apply `form-action` to the redirect that answers a
/// form post, so the origins a successful sign-in may redirect to (the default return URLs and
/// `selfservice.allowed_return_urls`) are allowed too. `data:` images are TOTP QR codes.
pub fn content_security_policy(browser: &BrowserSettings, public_base: &str) -> String {
    let mut sources = vec!["'self'".to_owned(), public_base.to_owned()];
    let parsed = [&browser.default_return, &browser.logout_return]
        .into_iter()
        .filter_map(|u| url::Url::parse(u).ok());
    for url in parsed.chain(browser.allowed_return_urls.iter().cloned()) {
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let origin = url[..url::Position::BeforePath].to_owned();
        let plain = origin
            .chars()
            .all(|c| c.is_ascii_graphic() && c != ';' && c != ',');
        if plain && !sources.contains(&origin) && !public_base.starts_with(&format!("{origin}/")) {
            sources.push(origin);
        }
    }
    format!(
        "default-src 'self'; img-src 'self' data:; form-action {}; frame-ancestors 'none'",
        sources.join(" ")
    )
}

/// An HTML page with the UI's security headers.
pub fn page<S: Serialize>(
    state: &AppState,
    status: StatusCode,
    template: &str,
    view: &S,
) -> Response {
    let body = match render(template, view) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, template, "a UI page failed to render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Internal Server Error\n",
            )
                .into_response();
        }
    };
    let csp = content_security_policy(&state.browser, &state.public_base_url);
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// The error page for a failure the visitor cannot fix: 503 with `Retry-After` while the
/// database cannot be reached, else 500; the cause is logged once.
pub fn internal_error(state: &AppState, e: &sesame_core::CoreError) -> Response {
    use sesame_core::store::StoreError;
    if let sesame_core::CoreError::Store(StoreError::Unavailable(cause)) = e {
        // Logged as the API's 503s are: not once per request during an outage.
        let _ = crate::error::ApiError::unavailable(cause);
        let mut res = page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            ERROR,
            &pages::ErrorPage::unavailable(&state.public_base_url),
        );
        crate::error::set_retry_after(&mut res);
        return res;
    }
    tracing::error!(error = %e, "a UI page failed");
    page(
        state,
        StatusCode::INTERNAL_SERVER_ERROR,
        ERROR,
        &pages::ErrorPage::new(None, &state.public_base_url),
    )
}

#[cfg(test)]
mod tests {
    use super::pages::{ErrorPage, FlowPage, Links, SessionView, WelcomePage};
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    const BASE: &str = "http://127.0.0.1:4433/";

    #[test]
    fn every_template_parses() {
        assert!(
            ENVIRONMENT.as_ref().is_ok(),
            "{:?}",
            ENVIRONMENT.as_ref().err()
        );
    }

    #[test]
    fn escaping_keeps_urls_readable_and_markup_inert() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y' http://a/b"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27; http://a/b"
        );
    }

    fn login_page(messages: serde_json::Value) -> FlowPage {
        let flow: sesame_types::LoginFlow = serde_json::from_value(json!({
            "id": "5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
            "organization_id": null,
            "type": "browser",
            "expires_at": "2026-01-01T01:00:00Z",
            "issued_at": "2026-01-01T00:00:00Z",
            "request_url": "http://127.0.0.1:4433/self-service/login/browser",
            "ui": {
                "action": "http://127.0.0.1:4433/self-service/login?flow=5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
                "method": "POST",
                "nodes": [
                    {"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"tok\"en","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}},
                    {"type":"input","group":"default","attributes":{"name":"identifier","type":"text","value":"<b>x</b>","required":true,"disabled":false,"node_type":"input"},"messages":[{"id":4000002,"text":"Property identifier is missing.","type":"error"}],"meta":{"label":{"id":1070002,"text":"E-Mail","type":"info"}}},
                    {"type":"input","group":"password","attributes":{"name":"password","type":"password","value":"hunter2","required":true,"autocomplete":"current-password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070001,"text":"Password","type":"info"}}},
                    {"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010022,"text":"Sign in with password","type":"info"}}}
                ],
                "messages": messages
            },
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "refresh": false,
            "requested_aal": "aal1",
            "state": "choose_method"
        }))
        .unwrap();
        FlowPage::login(&flow, BASE, None)
    }

    #[test]
    fn a_login_flow_renders_as_an_accessible_form() {
        let html = render(
            FLOW,
            &login_page(json!([{"id":4000006,"text":"Bad credentials.","type":"error"}])),
        )
        .unwrap();
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert!(html.contains(r#"<html lang="en">"#));
        assert_eq!(html.matches("<h1").count(), 1);
        assert!(
            html.contains(r#"<div class="messages messages-error" role="alert">"#),
            "{html}"
        );
        assert!(html.contains("Bad credentials."));
        assert!(html.contains(r#"<form action="http://127.0.0.1:4433/self-service/login?flow=5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5" method="post">"#), "{html}");
        assert!(
            html.contains(r#"<input type="hidden" name="csrf_token" value="tok&quot;en">"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<label for="field-identifier">E-Mail</label>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"value="&lt;b&gt;x&lt;&#x2f;b&gt;""#)
                || html.contains(r#"value="&lt;b&gt;x&lt;/b&gt;""#),
            "{html}"
        );
        assert!(
            html.contains(r#"aria-describedby="field-identifier-messages" aria-invalid="true""#),
            "{html}"
        );
        assert!(html.contains(r#"id="field-identifier-messages""#));
        assert!(!html.contains("hunter2"));
        assert!(html.contains(r#"<button type="submit" name="method" value="password">Sign in with password</button>"#), "{html}");
        assert!(
            html.contains(
                r#"href="http://127.0.0.1:4433/self-service/registration/browser">Sign up</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn a_settings_flow_renders_one_titled_form_per_method() {
        let flow: sesame_types::SettingsFlow = serde_json::from_value(json!({
            "id": "5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
            "type": "browser",
            "expires_at": "2026-01-01T01:00:00Z",
            "issued_at": "2026-01-01T00:00:00Z",
            "request_url": "http://127.0.0.1:4433/self-service/settings/browser",
            "ui": {
                "action": "http://127.0.0.1:4433/self-service/settings?flow=5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
                "method": "POST",
                "nodes": [
                    {"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"tok","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}},
                    {"type":"input","group":"profile","attributes":{"name":"traits.email","type":"email","value":"<i>a</i>@example.com","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070002,"text":"E-Mail","type":"info"}}},
                    {"type":"input","group":"profile","attributes":{"name":"method","type":"submit","value":"profile","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070003,"text":"Save","type":"info"}}},
                    {"type":"text","group":"lookup_secret","attributes":{"text":{"id":1050015,"text":"abcd1234","type":"info","context":{"secrets":[{"id":1050009,"text":"abcd1234","type":"info","context":{"secret":"abcd1234"}}]}},"id":"lookup_secret_codes","node_type":"text"},"messages":[],"meta":{"label":{"id":1050010,"text":"These are your back up recovery codes. Please keep them in a safe place!","type":"info"}}},
                    {"type":"input","group":"lookup_secret","attributes":{"name":"lookup_secret_confirm","type":"submit","value":"true","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1050011,"text":"Confirm backup recovery codes","type":"info"}}},
                    {"type":"img","group":"totp","attributes":{"src":"data:image/png;base64,iVBORw0KGgo=","id":"totp_qr","width":256,"height":256,"node_type":"img"},"messages":[],"meta":{"label":{"id":1050005,"text":"Authenticator app QR code","type":"info"}}},
                    {"type":"text","group":"totp","attributes":{"text":{"id":1050006,"text":"JBSWY3DPEHPK3PXP","type":"info","context":{"secret":"JBSWY3DPEHPK3PXP"}},"id":"totp_secret_key","node_type":"text"},"messages":[],"meta":{"label":{"id":1050017,"text":"This is your authenticator app secret. Use it if you can not scan the QR code.","type":"info"}}},
                    {"type":"input","group":"totp","attributes":{"name":"totp_code","type":"text","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070006,"text":"Verify code","type":"info"}}},
                    {"type":"input","group":"totp","attributes":{"name":"method","type":"submit","value":"totp","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070003,"text":"Save","type":"info"}}}
                ],
                "messages": [{"id":1050001,"text":"Your changes have been saved!","type":"success"}]
            },
            "identity": {
                "id": "0d5a3f0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
                "schema_id": "default",
                "schema_url": "",
                "state": "active",
                "traits": {"email": "<i>a</i>@example.com"},
                "metadata_public": null,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "organization_id": null
            },
            "state": "success",
            "organization_id": null
        }))
        .unwrap();
        let html = render(
            FLOW,
            &FlowPage::settings(&flow, BASE, |method| method != "profile"),
        )
        .unwrap();
        assert_eq!(html.matches("<h1").count(), 1);
        assert!(
            html.contains(r#"<div class="messages messages-success" role="status">"#),
            "{html}"
        );
        assert_eq!(html.matches("<form ").count(), 3, "{html}");
        // The authenticator app before the backup codes, though its nodes come after them.
        assert!(html.find("group-totp").unwrap() < html.find("group-lookup_secret").unwrap());
        // Saving a method that comes back here returns to its section, where a hidden copy of
        // the messages waits; the profile's return URL gets no fragment.
        let action =
            "http://127.0.0.1:4433/self-service/settings?flow=5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5";
        assert!(
            html.contains(&format!(
                r#"<form action="{action}#group-totp" method="post">"#
            )),
            "{html}"
        );
        assert!(html.contains(&format!(r#"<form action="{action}" method="post">"#)));
        assert_eq!(
            html.matches(
                r#"<div class="messages messages-success messages-here" role="status" hidden>"#
            )
            .count(),
            2,
            "{html}"
        );
        assert!(html.contains(
            r#"<h2 id="group-totp">Authenticator app</h2>
<div class="messages messages-success messages-here""#
        ));
        assert!(html.contains(r#">Save profile</button>"#), "{html}");
        assert!(
            html.contains(r#">Link authenticator app</button>"#),
            "{html}"
        );
        assert_eq!(
            html.matches(r#"<input type="hidden" name="csrf_token" value="tok">"#)
                .count(),
            3
        );
        for (id, title) in [
            ("group-profile", "Profile"),
            ("group-lookup_secret", "Backup recovery codes"),
            ("group-totp", "Authenticator app"),
        ] {
            assert!(
                html.contains(&format!(
                    r#"<section class="group" aria-labelledby="{id}">
<h2 id="{id}">{title}</h2>"#
                )),
                "{html}"
            );
        }
        assert!(html.contains(r#"<img src="data:image/png;base64,iVBORw0KGgo=" alt="Authenticator app QR code" width="256" height="256">"#), "{html}");
        assert!(
            html.contains(
                r#"<code class="secret" id="field-totp_secret_key">JBSWY3DPEHPK3PXP</code>"#
            ),
            "{html}"
        );
        assert!(html.contains(r#"<ul class="text-list" id="field-lookup_secret_codes" aria-labelledby="field-lookup_secret_codes-label">"#), "{html}");
        assert!(html.contains("<li><code>abcd1234</code></li>"), "{html}");
        assert!(html.contains(r#"<button type="submit" name="lookup_secret_confirm" value="true">Confirm backup recovery codes</button>"#), "{html}");
        assert!(!html.contains("<i>"), "{html}");
        assert!(html.contains("Signed in as &lt;i&gt;a&lt;/i&gt;@example.com."));
        assert!(
            html.contains(r#"<a href="http://127.0.0.1:4433/ui/welcome">Back to your account</a>"#),
            "{html}"
        );
    }

    #[test]
    fn the_other_pages_render() {
        let page = WelcomePage {
            session: None,
            links: Links::new(BASE, None),
        };
        let html = render(WELCOME, &page).unwrap();
        assert!(html.contains("self-service/login/browser"));
        let session: sesame_types::Session = serde_json::from_value(json!({
            "id": "5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
            "active": true,
            "expires_at": "2026-01-02T00:00:00Z",
            "authenticated_at": "2026-01-01T00:00:00Z",
            "authenticator_assurance_level": "aal1",
            "authentication_methods": [{"method": "password", "aal": "aal1", "completed_at": "2026-01-01T00:00:00Z"}],
            "issued_at": "2026-01-01T00:00:00Z",
            "identity": null,
            "devices": []
        }))
        .unwrap();
        let page = WelcomePage {
            session: Some(SessionView::new(
                &session,
                format!("{BASE}self-service/logout?token=ory_lo_x"),
                &Default::default(),
            )),
            links: Links::new(BASE, None),
        };
        let html = render(WELCOME, &page).unwrap();
        assert!(
            html.contains(r#"href="http://127.0.0.1:4433/self-service/logout?token=ory_lo_x""#),
            "{html}"
        );
        assert!(
            html.contains(
                r#"href="http://127.0.0.1:4433/self-service/settings/browser">Account settings</a>"#
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"<time datetime="2026-01-02T00:00:00Z">2026-01-02 00:00 UTC</time>"#),
            "{html}"
        );
        let html = render(ERROR, &ErrorPage::new(Some("<i>x</i>"), BASE)).unwrap();
        assert!(html.contains("&lt;i&gt;x&lt;/i&gt;"), "{html}");
        assert!(!html.contains("<i>"));
    }

    #[test]
    fn the_policy_allows_posting_to_the_public_base_and_redirecting_to_return_urls() {
        let mut config = Config::default();
        config.selfservice.allowed_return_urls = vec!["https://*.example.org/app".into()];
        config.selfservice.default_browser_return_url = Some("https://app.example.com/home".into());
        let settings = BrowserSettings::new(&config, BASE);
        assert_eq!(
            content_security_policy(&settings, BASE),
            "default-src 'self'; img-src 'self' data:; form-action 'self' http://127.0.0.1:4433/ https://app.example.com https://*.example.org; frame-ancestors 'none'"
        );
        let settings = BrowserSettings::new(&Config::default(), BASE);
        assert_eq!(settings.default_return, "http://127.0.0.1:4433/ui/welcome");
        assert_eq!(
            content_security_policy(&settings, BASE),
            "default-src 'self'; img-src 'self' data:; form-action 'self' http://127.0.0.1:4433/; frame-ancestors 'none'"
        );
    }
}
