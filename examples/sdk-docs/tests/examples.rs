//! The documented examples, run against a real Sesame: they do what the pages say they do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sesame_client::sesame_types::{Aal, UiContainer, UiNodeAttributes};
use sesame_client::{Client, ErrorKind, HeaderMap, StatusCode, Value};
use sesame_core::Clock;
use sesame_example_sdk_docs::{
    LoginForm, browser_login_flow, browser_login_submit, enrol_second_factors, guarded_app,
    readme_whoami, step_up, the_client, to_session, whoami_or_401,
};
use sesame_testkit::{Backend, TestApp};

const PASSWORD: &str = "a-very-good-passphrase-42";

/// The `Cookie` header of a browser holding the session of `token`, among other cookies.
fn visitor_cookie(token: &str) -> String {
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let session = sesame_testkit::sealed_session_cookie(token, expires);
    format!("theme=dark; {session}")
}

/// The `Cookie` header a browser sends after receiving these `Set-Cookie` headers.
fn after_set_cookie(jar: &str, headers: &HeaderMap) -> String {
    let mut cookies: Vec<String> = jar
        .split("; ")
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    for set in headers.get_all("set-cookie") {
        let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        let name = pair.split('=').next().unwrap().to_owned();
        cookies.retain(|c| c.split('=').next() != Some(name.as_str()));
        cookies.push(pair);
    }
    cookies.join("; ")
}

/// The attributes of the non-input node `id` of a form.
fn node<'a>(ui: &'a UiContainer, id: &str) -> &'a sesame_client::serde_json::Map<String, Value> {
    ui.nodes
        .iter()
        .find_map(|n| match &n.attributes {
            UiNodeAttributes::Other(a) if a.get("id").and_then(Value::as_str) == Some(id) => {
                Some(a)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no node {id} in {ui:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_tells_signed_in_visitors_from_the_others() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, identity_id) = app.signed_up_user("readme@example.com").await;
    let page = readme_whoami(&app.public_url, visitor_cookie(&token))
        .await
        .unwrap();
    assert_eq!(page, format!("signed in as identity {identity_id}"));
    let page = readme_whoami(&app.public_url, "theme=dark".into())
        .await
        .unwrap();
    assert_eq!(page, "please sign in");
    app.add_totp_credential(&identity_id).await;
    let page = readme_whoami(&app.public_url, visitor_cookie(&token))
        .await
        .unwrap();
    assert_eq!(page, "second factor, please");

    // Any other failure is returned.
    let err = readme_whoami("http://127.0.0.1:1", visitor_cookie(&token))
        .await
        .unwrap_err();
    let err = err.downcast::<sesame_client::Error>().unwrap();
    assert!(matches!(err.kind, ErrorKind::Transport(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_program_prints_who_the_token_belongs_to() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, identity_id) = app.signed_up_user("first@example.com").await;
    let run = |url: String, token: Option<String>| {
        tokio::task::spawn_blocking(move || {
            let mut command =
                std::process::Command::new(env!("CARGO_BIN_EXE_sesame-example-sdk-docs"));
            command
                .env("SESAME_PUBLIC_URL", url)
                .env_remove("SESSION_TOKEN");
            if let Some(token) = token {
                command.env("SESSION_TOKEN", token);
            }
            command.output().unwrap()
        })
    };
    let out = run(app.public_url.clone(), Some(token)).await.unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("signed in as identity {identity_id}\n")
    );
    let out = run(app.public_url.clone(), None).await.unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "not signed in\n");
    let out = run("http://127.0.0.1:1".into(), None).await.unwrap();
    assert!(!out.status.success(), "an unreachable server is an error");
    assert!(
        String::from_utf8(out.stderr).unwrap().contains("Transport"),
        "the error is printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_and_to_session_examples_send_every_option() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, identity_id) = app.signed_up_user("options@example.com").await;
    let sesame = the_client(&app.public_url, &app.admin_url).unwrap();
    assert_eq!(sesame.public_url(), app.public_url);
    assert_eq!(sesame.admin_url(), Some(app.admin_url.as_str()));

    let res = to_session(&sesame, visitor_cookie(&token), "req-7".into())
        .await
        .unwrap();
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.identity_id(), Some(identity_id.as_str()));
    assert_eq!(
        res.data.identity.as_ref().unwrap().id.to_string(),
        identity_id
    );
    assert_eq!(res.extra["route"], "/dashboard");
    let sent = &res.request.headers;
    assert_eq!(sent["x-app"], "my-app", "the interceptor's header");
    assert_eq!(sent["x-tenant"], "acme");
    assert_eq!(sent["user-agent"], "my-app/1.0");
    assert_eq!(sent["x-request-id"], "req-7");

    // The admin API is configured too.
    let identity = sesame
        .get_identity(res.data.identity.as_ref().unwrap().id)
        .await
        .unwrap();
    assert_eq!(identity.data.traits["email"], "options@example.com");

    // Without a session, the example fails with `SessionInactive`.
    let err = to_session(&sesame, "theme=dark".into(), "req-8".into())
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::SessionInactive), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validate_status_example_reads_a_401_as_json() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sesame = app.sdk();
    let res = whoami_or_401(&sesame, "theme=dark".into()).await.unwrap();
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.data["error"]["id"], "session_inactive");

    let (token, _) = app.signed_up_user("json@example.com").await;
    let res = whoami_or_401(&sesame, visitor_cookie(&token))
        .await
        .unwrap();
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.data["active"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_flow_examples_sign_a_browser_in() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.signed_up_user("browser@example.com").await;
    let sesame = app.sdk();

    let flow = browser_login_flow(&sesame, "theme=dark".into())
        .await
        .unwrap();
    let jar = after_set_cookie("theme=dark", &flow.headers);
    assert!(jar.contains("csrf_token"), "the anti-CSRF cookie: {jar}");
    let form = LoginForm {
        identifier: "browser@example.com".into(),
        password: PASSWORD.into(),
        csrf_token: flow.data.ui.csrf_token().unwrap().to_owned(),
    };
    let done = browser_login_submit(&sesame, flow.data.id, &form, jar.clone())
        .await
        .unwrap();
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.data.session_token, None, "browsers get a cookie");
    let jar = after_set_cookie(&jar, &done.headers);
    assert!(jar.contains("ory_kratos_session="), "{jar}");
    let whoami = sesame.to_session().cookie(&jar).await.unwrap();
    assert_eq!(whoami.data.id, done.data.session.id);

    // A form without the right anti-CSRF token is refused.
    let flow = browser_login_flow(&sesame, String::new()).await.unwrap();
    let jar = after_set_cookie("", &flow.headers);
    let forged = LoginForm {
        csrf_token: "forged".into(),
        ..form
    };
    let err = browser_login_submit(&sesame, flow.data.id, &forged, jar)
        .await
        .unwrap_err();
    assert_eq!(err.id(), Some("security_csrf_violation"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_example_protects_the_dashboard() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, _) = app.signed_up_user("guarded@example.com").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    let router = guarded_app(&app.public_url, &app_url).unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let get = |path: &str, cookie: Option<String>| {
        let mut req = app.http.get(format!("{app_url}{path}"));
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send()
    };

    let res = get("/dashboard", None).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let return_to = format!("{app_url}/dashboard")
        .replace(':', "%3A")
        .replace('/', "%2F");
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!(
            "{}/self-service/login/browser?return_to={return_to}",
            app.public_url
        )
    );
    let res = get("/", None).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "false");

    let session = app
        .sdk()
        .to_session()
        .x_session_token(&token)
        .await
        .unwrap();
    let res = get("/dashboard", Some(visitor_cookie(&token)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), session.data.id.to_string());
    let res = get("/", Some(visitor_cookie(&token))).await.unwrap();
    assert_eq!(res.text().await.unwrap(), "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_factor_examples_enrol_and_step_up() {
    let app = TestApp::builder(Backend::Sqlite)
        .env("SELFSERVICE_METHODS_TOTP_ENABLED", "true")
        .env("SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED", "true")
        .spawn()
        .await;
    let sesame = app.sdk();
    let (token, _) = app.signed_up_user("mfa@example.com").await;

    let mut secret = String::new();
    let shown = enrol_second_factors(&sesame, token.clone(), |ui| {
        secret = node(ui, "totp_secret_key")["text"]["context"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        sesame_testkit::totp_code(&secret, app.clock.now())
    })
    .await
    .unwrap();
    let codes = &node(&shown.data.ui, "lookup_secret_codes")["text"]["context"]["secrets"];
    assert_eq!(codes.as_array().unwrap().len(), 12);
    let enrolled = sesame.to_session().x_session_token(&token).await.unwrap();
    assert_eq!(enrolled.data.authenticator_assurance_level, Aal::Aal2);
    let identity = enrolled.data.identity.as_ref().unwrap().id;
    let credentials = sesame
        .get_identity(identity)
        .await
        .unwrap()
        .data
        .credentials;
    let kinds: Vec<_> = credentials.unwrap().into_keys().collect();
    assert_eq!(kinds, ["lookup_secret", "password", "totp"]);

    // A new password session owes the second factor until it steps up.
    let login = sesame
        .login_with_password("mfa@example.com", PASSWORD)
        .await
        .unwrap();
    let token = login.data.session_token.unwrap();
    let err = sesame
        .to_session()
        .x_session_token(&token)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Aal2Required { .. }),
        "{err:?}"
    );
    // The next code (the linking one is spent).
    app.clock.advance(chrono::Duration::seconds(30));
    let done = step_up(&sesame, token.clone(), |_| {
        sesame_testkit::totp_code(&secret, app.clock.now())
    })
    .await
    .unwrap();
    assert_eq!(done.data.session.authenticator_assurance_level, Aal::Aal2);
    let whoami = sesame.to_session().x_session_token(&token).await.unwrap();
    assert_eq!(whoami.data.id, login.data.session.id);
    assert_eq!(whoami.data.authenticator_assurance_level, Aal::Aal2);
}

#[test]
fn a_client_with_an_invalid_url_is_a_config_error() {
    let err = the_client("not a url", "http://127.0.0.1:4434").unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Config(_)), "{err:?}");
    assert!(Client::builder("http://127.0.0.1:4433").build().is_ok());
}
