//! The built-in self-service UI on the public port: sign-in, sign-up and account-settings pages that
//! render a browser flow, the welcome page (the current session) with a sign-out link, the error
//! page, the stylesheet and icons, and the way in from `/` and `/ui/`. Handlers fetch one thing and
//! hand it to [`crate::ui`] to render.

use crate::browser::respond;
use crate::extract::{RequestToken, csrf_cookie, query, query_param, request_url};
use crate::state::AppState;
use crate::ui::{self, pages};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sesame_core::{CoreError, FlowId};
use sesame_types::{Aal, FlowType};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/login", get(login))
        .route("/ui/registration", get(registration))
        .route("/ui/settings", get(settings))
        .route("/ui/welcome", get(welcome))
        .route("/ui/error", get(error))
        .route("/ui/style.css", get(stylesheet))
        .route("/ui/favicon.svg", get(favicon_svg))
        .route("/favicon.ico", get(favicon_ico))
        .route("/", get(root))
        .route("/ui", get(ui_index))
        .route("/ui/", get(ui_index))
}

/// `GET /`: a browser's first visit lands where sign-in and sign-up lead back to,
/// `selfservice.default_browser_return_url` (by default the welcome page, which offers both).
async fn root(State(state): State<AppState>) -> Response {
    respond::redirect(StatusCode::SEE_OTHER, &state.browser.default_return)
}

/// `GET /ui` and `/ui/`: the built-in UI's own start, the welcome page.
async fn ui_index(State(state): State<AppState>) -> Response {
    let welcome = pages::Links::new(&state.public_base_url, None).welcome;
    respond::redirect(StatusCode::SEE_OTHER, &welcome)
}

/// A 303 to `<public>/self-service/<kind>/browser` for a new flow, passing on the `keep` query
/// parameters the page was opened with (`return_to`, and `aal`/`refresh` for login).
fn new_flow(state: &AppState, kind: &str, uri: &Uri, keep: &[&str]) -> Response {
    let mut url = format!("{}self-service/{kind}/browser", state.public_base_url);
    let pairs: Vec<(String, String)> = query(uri)
        .into_iter()
        .filter(|(k, v)| keep.contains(&k.as_str()) && !v.is_empty())
        .collect();
    if !pairs.is_empty() {
        url.push('?');
        url.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        );
    }
    respond::redirect(StatusCode::SEE_OTHER, &url)
}

fn requested_flow(uri: &Uri) -> Option<FlowId> {
    query_param(uri, "flow").and_then(|v| FlowId::parse(&v).ok())
}

/// Whether the browser should get a new flow instead: the flow is unknown, expired, or bound to
/// another browser's anti-CSRF cookie.
fn start_over(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::NotFound | CoreError::FlowExpiredOnFetch { .. } | CoreError::Csrf(_)
    )
}

/// The query parameter marking a page the UI sent the browser back to after handing it an
/// anti-CSRF cookie, to see whether the cookie comes back.
const COOKIE_CHECK: &str = "cookie_check";

/// The answer to a browser whose request carries no anti-CSRF cookie for a flow that needs one.
/// A new flow would hand it a cookie and send it back here; a browser that keeps no cookies (or
/// drops `Secure` ones over plain HTTP) would come back without it, for ever. So the first time
/// the browser gets the cookie and comes back to this page with a marker; with the marker and
/// still no cookie it is told why it cannot go on. No state is kept between the two requests.
fn without_csrf_cookie(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Response {
    if query_param(uri, COOKIE_CHECK).is_some() {
        let plain_http = state.browser.csrf_cookie.secure
            && request_url(state, headers, uri).starts_with("http://");
        let view = pages::ErrorPage::cookies_needed(&state.public_base_url, plain_http);
        return ui::page(state, StatusCode::BAD_REQUEST, ui::ERROR, &view);
    }
    let mut again = format!(
        "{}{}?",
        state.public_base_url,
        uri.path().trim_start_matches('/')
    );
    if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
        again.push_str(query);
        again.push('&');
    }
    again.push_str(COOKIE_CHECK);
    again.push_str("=1");
    let (_, set_cookie) = respond::new_csrf_cookie(state, state.now());
    let mut res = respond::redirect(StatusCode::SEE_OTHER, &again);
    respond::set_cookie(&mut res, set_cookie);
    res
}

/// `<public>/self-service/logout?token=…` for the request's session, if it has one.
async fn logout_url(state: &AppState, token: &RequestToken) -> Result<Option<String>, CoreError> {
    match state.sessions.logout_token(token.get(), state.now()).await {
        Ok(t) => Ok(Some(format!(
            "{}self-service/logout?{}",
            state.public_base_url,
            form_urlencoded::Serializer::new(String::new())
                .append_pair("token", t.expose())
                .finish()
        ))),
        Err(CoreError::SessionRequired | CoreError::NoSession) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /ui/login?flow=`: the login flow's form. A second-factor or re-authentication page also
/// offers to sign the current session out, for someone who cannot complete it.
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Response {
    const KEEP: &[&str] = &["return_to", "aal", "refresh"];
    let Some(id) = requested_flow(&uri) else {
        return new_flow(&state, "login", &uri, KEEP);
    };
    let cookie = csrf_cookie(&state, &headers);
    match state.login.get(id, cookie.as_deref(), state.now()).await {
        Ok(flow) if flow.flow_type == FlowType::Browser => {
            let sign_out = if flow.refresh || flow.requested_aal >= Aal::Aal2 {
                match logout_url(&state, &token).await {
                    Ok(url) => url,
                    Err(e) => return ui::internal_error(&state, &e),
                }
            } else {
                None
            };
            let view = pages::FlowPage::login(&flow, &state.public_base_url, sign_out);
            ui::page(&state, StatusCode::OK, ui::FLOW, &view)
        }
        Ok(_) => new_flow(&state, "login", &uri, KEEP),
        Err(CoreError::Csrf(_)) if cookie.is_none() => without_csrf_cookie(&state, &headers, &uri),
        Err(e) if start_over(&e) => new_flow(&state, "login", &uri, KEEP),
        Err(e) => ui::internal_error(&state, &e),
    }
}

/// `GET /ui/registration?flow=`: the registration flow's form.
async fn registration(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    const KEEP: &[&str] = &["return_to"];
    let Some(id) = requested_flow(&uri) else {
        return new_flow(&state, "registration", &uri, KEEP);
    };
    let cookie = csrf_cookie(&state, &headers);
    match state
        .registration
        .get(id, cookie.as_deref(), state.now())
        .await
    {
        Ok(flow) if flow.flow_type == FlowType::Browser => ui::page(
            &state,
            StatusCode::OK,
            ui::FLOW,
            &pages::FlowPage::registration(&flow, &state.public_base_url),
        ),
        Ok(_) => new_flow(&state, "registration", &uri, KEEP),
        Err(CoreError::Csrf(_)) if cookie.is_none() => without_csrf_cookie(&state, &headers, &uri),
        Err(e) if start_over(&e) => new_flow(&state, "registration", &uri, KEEP),
        Err(e) => ui::internal_error(&state, &e),
    }
}

/// `GET /ui/settings?flow=`: the settings flow's form, for the session the flow belongs to.
/// Without a session the browser signs in first and comes back to a new flow; a session still
/// owing its second factor completes it and comes back to this flow.
async fn settings(State(state): State<AppState>, uri: Uri, token: RequestToken) -> Response {
    const KEEP: &[&str] = &["return_to"];
    let Some(id) = requested_flow(&uri) else {
        return new_flow(&state, "settings", &uri, KEEP);
    };
    let base = &state.public_base_url;
    let login = |pairs: &[(&str, &str)]| {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        respond::redirect(
            StatusCode::SEE_OTHER,
            &format!("{base}self-service/login/browser?{query}"),
        )
    };
    match state.settings.get(id, token.get(), state.now()).await {
        Ok(flow) if flow.flow_type == FlowType::Browser => {
            let browser = &state.browser;
            // Saving a method comes back to this page unless a return URL is configured for it;
            // only then may its form carry a fragment, which would follow the browser anywhere.
            let here = browser.settings_ui == format!("{base}ui/settings")
                && flow.return_to.is_none()
                && browser.settings_return.is_none();
            let returns_here = |method: &str| {
                here && !browser
                    .settings_method_return
                    .iter()
                    .any(|(m, _)| *m == method)
            };
            let view = pages::FlowPage::settings(&flow, base, returns_here);
            ui::page(&state, StatusCode::OK, ui::FLOW, &view)
        }
        Ok(_) => new_flow(&state, "settings", &uri, KEEP),
        Err(CoreError::NoSession) => {
            login(&[("return_to", &format!("{base}self-service/settings/browser"))])
        }
        Err(CoreError::Aal2Required) => login(&[
            ("aal", "aal2"),
            ("return_to", &format!("{base}ui/settings?flow={}", id.0)),
        ]),
        // Another identity's flow is not shown; this browser's session gets its own.
        Err(e) if start_over(&e) || matches!(e, CoreError::IdentityMismatch { .. }) => {
            new_flow(&state, "settings", &uri, KEEP)
        }
        Err(e) => ui::internal_error(&state, &e),
    }
}

/// `GET /ui/welcome`: the request's session (as whoami sees it) with a sign-out link, or links to
/// sign in and up.
async fn welcome(State(state): State<AppState>, token: RequestToken) -> Response {
    let now = state.now();
    let base = &state.public_base_url;
    let links = pages::Links::new(base, None);
    let answer = match state.sessions.whoami(token.get(), now).await {
        Ok(answer) => answer,
        Err(CoreError::NoSession) => {
            let view = pages::WelcomePage {
                session: None,
                links,
            };
            return ui::page(&state, StatusCode::OK, ui::WELCOME, &view);
        }
        // The session needs a second factor before whoami answers; complete it, then come back.
        Err(CoreError::Aal2Required) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("aal", "aal2")
                .append_pair("return_to", &links.welcome)
                .finish();
            return respond::redirect(
                StatusCode::SEE_OTHER,
                &format!("{base}self-service/login/browser?{query}"),
            );
        }
        Err(e) => return ui::internal_error(&state, &e),
    };
    let logout_token = match state.sessions.logout_token(token.get(), now).await {
        Ok(t) => t,
        Err(e) => return ui::internal_error(&state, &e),
    };
    let logout_url = format!(
        "{base}self-service/logout?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("token", logout_token.expose())
            .finish()
    );
    let titles = pages::trait_titles(state.deps.schemas.get(&answer.identity.schema_id));
    let session = state.sessions.into_wire(answer, now);
    let view = pages::WelcomePage {
        session: Some(pages::SessionView::new(&session, logout_url, &titles)),
        links,
    };
    ui::page(&state, StatusCode::OK, ui::WELCOME, &view)
}

/// `GET /ui/error?error=` (or `?id=`): what went wrong, in plain words.
async fn error(State(state): State<AppState>, uri: Uri) -> Response {
    let code = query_param(&uri, "error").or_else(|| query_param(&uri, "id"));
    let view = pages::ErrorPage::new(code.as_deref(), &state.public_base_url);
    ui::page(&state, StatusCode::OK, ui::ERROR, &view)
}

/// A file that is the same for everyone, so caches may keep it for a day.
fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// `GET /ui/style.css`.
async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", ui::STYLESHEET.as_bytes())
}

/// `GET /ui/favicon.svg`: the icon the pages link to. Opened on its own it is a document, so it
/// may load nothing at all.
async fn favicon_svg() -> Response {
    let mut res = asset("image/svg+xml", ui::FAVICON_SVG.as_bytes());
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    res
}

/// `GET /favicon.ico`: where browsers look for an icon on their own, and the pages' fallback.
async fn favicon_ico() -> Response {
    asset("image/x-icon", ui::FAVICON_ICO)
}
