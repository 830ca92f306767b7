//! The Rust examples of `docs/sdk.md` and of the README's "Rust SDK" section, each compiled here
//! inside a function whose parameters are the values the page leaves to the app (`sesame`, a
//! `token`, the visitor's cookie …). `src/main.rs` is the page's complete program.
//!
//! This crate's only dependencies are `sesame-client` (with the `axum` feature), `tokio` and
//! `axum`, so every example compiles with what the SDK itself provides. `tests/docs.rs` checks that
//! every Rust block of those pages appears here verbatim (up to indentation) and that the
//! dependencies stay these three; `tests/examples.rs` runs the examples against a real Sesame.
//!
//! The example functions are `#[rustfmt::skip]`, so that they keep the pages' layout (aligned
//! comments); edit an example here and on its page together.

use axum::Router;
use sesame_client::sesame_types::{LoginFlow, SuccessfulNativeLogin, UiContainer};
use sesame_client::{Client, Error, Response, Session, SettingsFlow, Uuid, Value};

/// The error of the examples that mix the SDK's errors with others.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// README, "Rust SDK": whoami with the visitor's `Cookie` header, and what the app shows for each
/// answer.
#[rustfmt::skip]
pub async fn readme_whoami(public_url: &str, visitor_cookie_header: String) -> Result<String, BoxError> {
    use sesame_client::{Client, ErrorKind};

    let sesame = Client::builder(public_url).build()?; // e.g. "http://127.0.0.1:4433"
    let page = match sesame.to_session().cookie(&visitor_cookie_header).await {
        Ok(res) => format!("signed in as identity {}", res.identity_id().unwrap_or_default()),
        Err(e) if matches!(e.kind, ErrorKind::SessionInactive) => "please sign in".to_owned(),
        Err(e) if matches!(e.kind, ErrorKind::Aal2Required { .. }) => "second factor, please".to_owned(),
        Err(e) => return Err(e.into()),
    };

    Ok(page)
}

/// `docs/sdk.md`, "The client": a client with every option, and an interceptor that adds a
/// header.
#[rustfmt::skip]
pub fn the_client(public_url: &str, admin_url: &str) -> Result<Client, Error> {
    use sesame_client::{Client, HeaderName, HeaderValue, Interceptor, RequestParts, ResponseParts};
    use std::sync::Arc;
    use std::time::Duration;

    /// Tags every request with the app's name, and logs every answer.
    struct MyTracing;

    impl Interceptor for MyTracing {
        fn on_request(&self, req: &mut RequestParts) {
            req.headers.insert(HeaderName::from_static("x-app"), HeaderValue::from_static("my-app"));
        }

        fn on_response(&self, res: &ResponseParts<'_>) {
            println!("sesame answered {} (route {:?})", res.status, res.extra.get("route"));
        }
    }

    let sesame = Client::builder(public_url)  // the public API, e.g. "http://127.0.0.1:4433"
        .admin_url(admin_url)                 // the admin API (optional), e.g. "http://127.0.0.1:4434"
        .timeout(Duration::from_secs(5))      // each request's deadline, body included (default: none)
        .user_agent("my-app/1.0")             // default: sesame-client/<version>
        .default_header("x-tenant", "acme")   // on every request
        .interceptor(Arc::new(MyTracing))     // sees every request and response
        .build()?;

    Ok(sesame)
}

/// `docs/sdk.md`, "`to_session`": whoami with every per-request option.
#[rustfmt::skip]
pub async fn to_session(
    sesame: &Client,
    visitor_cookie_header: String,
    request_id: String,
) -> Result<Response<Session>, Error> {
    use sesame_client::chrono::Utc;
    use sesame_client::{CancellationToken, json};
    use std::time::Duration;

    let cancel = CancellationToken::new(); // cancel() it to abandon the call
    let res = sesame
        .to_session()
        .cookie(&visitor_cookie_header)       // or .x_session_token(&token), or .header("authorization", "Bearer …")
        .header("x-request-id", &request_id)  // extra headers
        .extra("route", json!("/dashboard"))  // request-scoped values, seen by interceptors, returned on the response
        .timeout(Duration::from_secs(2))      // this request's deadline, instead of the client's
        .cancellation(cancel.clone())         // dropping the future cancels too
        .on_receive_progress(|done, total| println!("{done}/{total} bytes")) // ends with done == total
        .await?;                              // or .send().await, or .send_raw().await for the JSON

    let session = &res.data; // a sesame_client::Session
    let minutes_left = (session.expires_at - Utc::now()).num_minutes();
    println!("session {} of identity {:?}, {minutes_left} min left", session.id, res.identity_id()); // X-Kratos-Authenticated-Identity-Id
    // Also on the response: status, status_text, headers, is_redirect, redirects, extra, and request:
    // the method, URL and headers sent (its Debug redacts cookies, tokens and Authorization).

    Ok(res)
}

/// `docs/sdk.md`, "`to_session`": whoami's 401 read as JSON rather than as an error.
#[rustfmt::skip]
pub async fn whoami_or_401(
    sesame: &Client,
    visitor_cookie_header: String,
) -> Result<Response<Value>, Error> {
    use sesame_client::StatusCode;

    let res = sesame
        .to_session()
        .cookie(&visitor_cookie_header)
        .validate_status(|status| status.is_success() || status == StatusCode::UNAUTHORIZED)
        .send_raw()
        .await?;
    if res.status == StatusCode::UNAUTHORIZED {
        println!("no session: {}", res.data["error"]["reason"]);
    }

    Ok(res)
}

/// `docs/sdk.md`, browser flows: a login flow for the browser whose `Cookie` header is
/// `browser_cookie`.
#[rustfmt::skip]
pub async fn browser_login_flow(
    sesame: &Client,
    browser_cookie: String,
) -> Result<Response<LoginFlow>, Error> {
    // GET /login on the app: a login flow for this browser.
    let flow = sesame.create_browser_login_flow().cookie(&browser_cookie).await?;
    // Pass flow.headers' Set-Cookie (the anti-CSRF cookie) on to the browser, and render flow.data.ui
    // as a form that posts the flow's id and its csrf_token (flow.data.ui.csrf_token()) to the app.

    Ok(flow)
}

/// The login form a browser posts back to the app.
#[derive(Debug, Clone)]
pub struct LoginForm {
    /// The identifier typed in (an email address).
    pub identifier: String,
    /// The password typed in.
    pub password: String,
    /// The form's hidden `csrf_token` field.
    pub csrf_token: String,
}

/// `docs/sdk.md`, browser flows: submits the posted `form` to flow `flow_id`, with the browser's
/// `Cookie` header.
#[rustfmt::skip]
pub async fn browser_login_submit(
    sesame: &Client,
    flow_id: Uuid,
    form: &LoginForm,
    browser_cookie: String,
) -> Result<Response<SuccessfulNativeLogin>, Error> {
    use sesame_client::UpdateLoginFlowBody;

    // POST /login?flow=… on the app: the posted form, with the browser's cookies (the anti-CSRF one
    // among them).
    let body = UpdateLoginFlowBody::password(&form.identifier, &form.password)
        .with_csrf_token(&form.csrf_token);
    let done = sesame.update_login_flow(flow_id, &body).cookie(&browser_cookie).await?;
    // Pass done.headers' Set-Cookie (the session cookie) on to the browser.

    Ok(done)
}

/// `docs/sdk.md`, "Protecting an axum app": a router whose `/dashboard` needs a session.
#[rustfmt::skip]
pub fn guarded_app(public_url: &str, app_url: &str) -> Result<Router, BoxError> {
    use axum::Router;
    use axum::routing::get;
    use sesame_client::Client;
    use sesame_client::guard::{CurrentSession, OnAal2, OnInactive, OptionalSession, SessionGuard};
    use std::time::Duration;

    let guard = SessionGuard::builder(Client::builder(public_url).build()?)
        .on_inactive(OnInactive::RedirectToLogin {                 // default: OnInactive::Unauthorized (401)
            login_url: format!("{public_url}/self-service/login/browser"),
        })
        .return_to_base(app_url)                                   // return_to = this + the path asked for
        .on_aal2(OnAal2::Redirect)                                 // default: OnAal2::Forbidden (403)
        .cache(Duration::from_secs(5), 10_000)                     // optional: TTL and bound
        .build()?;

    let app = Router::new()
        .route("/dashboard", get(|CurrentSession(s): CurrentSession| async move { s.id.to_string() }))
        .route_layer(guard.layer())                                // these routes need a session
        .route("/", get(|OptionalSession(s): OptionalSession| async move { s.is_some().to_string() }))
        .layer(axum::Extension(guard));                            // extractors elsewhere resolve through it

    Ok(app)
}

/// `docs/sdk.md`, "Second factors": links an authenticator app and sets backup codes up for the
/// session `token`. `code_from_the_app` is the user reading a code off their authenticator app,
/// given the form that shows the secret. Returns the answer that shows the backup codes.
#[rustfmt::skip]
pub async fn enrol_second_factors(
    sesame: &Client,
    token: String,
    code_from_the_app: impl FnOnce(&UiContainer) -> String,
) -> Result<Response<SettingsFlow>, Error> {
    use sesame_client::{LookupSecretAction, UpdateSettingsFlowBody};

    // TOTP: the settings flow offers a secret (node `totp_secret_key`) and its QR code (`totp_qr`);
    // the user adds it to an authenticator app, and a code the app shows links it.
    let flow = sesame.create_native_settings_flow().x_session_token(&token).await?;
    let code = code_from_the_app(&flow.data.ui);
    sesame
        .update_settings_flow(flow.data.id, &UpdateSettingsFlowBody::totp_link(code))
        .x_session_token(&token)
        .await?;

    // Backup codes: generate them (the node `lookup_secret_codes` of shown.data.ui shows them), then
    // save them.
    let flow = sesame.create_native_settings_flow().x_session_token(&token).await?;
    let regenerate = UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Regenerate);
    let shown = sesame.update_settings_flow(flow.data.id, &regenerate).x_session_token(&token).await?;
    // … once the user has them:
    let confirm = UpdateSettingsFlowBody::lookup_secret(LookupSecretAction::Confirm);
    sesame.update_settings_flow(flow.data.id, &confirm).x_session_token(&token).await?;

    Ok(shown)
}

/// `docs/sdk.md`, "Second factors": steps the password session `token` up to `aal2` with a TOTP
/// code.
#[rustfmt::skip]
pub async fn step_up(
    sesame: &Client,
    token: String,
    code_from_the_app: impl FnOnce(&UiContainer) -> String,
) -> Result<Response<SuccessfulNativeLogin>, Error> {
    use sesame_client::UpdateLoginFlowBody;
    use sesame_client::sesame_types::Aal;

    // A password session of such an identity is aal1 (whoami answers `Aal2Required`): an aal2 login
    // flow, submitted with the same token and a second factor, steps it up. (A backup code works
    // too: UpdateLoginFlowBody::lookup_secret(code).)
    let flow = sesame.create_native_login_flow().aal(Aal::Aal2).x_session_token(&token).await?;
    let code = code_from_the_app(&flow.data.ui);
    let done = sesame
        .update_login_flow(flow.data.id, &UpdateLoginFlowBody::totp(code))
        .x_session_token(&token)
        .await?;

    Ok(done)
}
