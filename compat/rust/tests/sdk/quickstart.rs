//! The SDK against Sesame started from Kratos's own quickstart configuration
//! (`kratos-quickstart/kratos.yml` of `SESAME_TEST_KRATOS_FIXTURES`, unchanged) with only the schema URL pointed at
//! the fixture schema (`IDENTITY_SCHEMAS`); the testkit owns the database and the listeners, so the
//! file's base URLs follow the bound ports. Everything else is the quickstart's: bcrypt cost 8,
//! the `session` + `show_verification_ui` registration hooks, CORS, 10m flow lifespans.

use crate::proxy::Checks;
use crate::support::*;
use ory_kratos_client::apis::{Error, ResponseContent, frontend_api, identity_api};
use ory_kratos_client::models::UpdateRegistrationFlowWithPasswordMethod;
use ory_kratos_client::models::{PerformNativeLogoutBody, UpdateRegistrationFlowBody};
use reqwest::StatusCode;
use serde_json::json;
use sesame_testkit::{Backend, KratosFixtures, TestApp, api_test};

/// A server on the quickstart's `kratos.yml`, with the schema URL pointed at the quickstart's
/// schema.
async fn quickstart_app(backend: Backend) -> TestApp {
    let fixtures = KratosFixtures::required();
    let schemas = json!([{
        "id": "default",
        "url": format!("file://{}", fixtures.quickstart_schema().display()),
    }]);
    TestApp::builder(backend)
        .config_file(fixtures.quickstart_config())
        .env("IDENTITY_SCHEMAS", &schemas.to_string())
        .spawn()
        .await
}

api_test!(
    the_sdk_runs_against_the_kratos_quickstart_config,
    needs_kratos_fixtures,
    |backend| async move {
        let app = quickstart_app(backend).await;
        let checks = Checks::for_app(&app).await;
        let public = native(&checks.public_url);
        let email = "ada@example.com";
        let traits = json!({"email": email, "name": {"first": "Ada", "last": "Lovelace"}});

        // Native registration with the quickstart schema's traits.
        let flow =
            registration_flow(get_json(&public, "/self-service/registration/api", None).await);
        assert_eq!(
            flow.ui.action,
            format!(
                "{}/self-service/registration?flow={}",
                app.public_url, flow.id
            )
        );
        input(&flow.ui, "traits.name.first");
        let body = UpdateRegistrationFlowBody::Password(Box::new(
            UpdateRegistrationFlowWithPasswordMethod::new(
                "password".into(),
                PASSWORD.into(),
                traits.clone(),
            ),
        ));
        let (json, _) = post_json(
            &public,
            &format!("/self-service/registration?flow={}", flow.id),
            &body,
            None,
            StatusCode::OK,
        )
        .await;
        let registered = registration_success(json);
        assert_eq!(registered.identity.traits, Some(traits));
        let first_token = registered.session_token.expect("the session hook signs in");

        // hashers: bcrypt, cost 8 (the admin API shows the hash on request).
        let admin = native(&checks.admin_url);
        let identity = identity_api::get_identity(
            &admin,
            &registered.identity.id,
            Some(vec!["password".into()]),
        )
        .await
        .expect("getIdentity");
        let hash = identity.credentials.unwrap()["password"]
            .config
            .clone()
            .unwrap()["hashed_password"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            hash.starts_with("$2a$08$") || hash.starts_with("$2b$08$"),
            "{hash}"
        );

        // Native login through the SDK (lifespan 10m), toSession by token and bearer, logout.
        let flow = or_shim(
            frontend_api::create_native_login_flow(
                &public, None, None, None, None, None, None, None, None,
            )
            .await,
            || async { login_flow(get_json(&public, "/self-service/login/api", None).await) },
        )
        .await;
        assert_eq!(
            secs(&flow.expires_at) - secs(&flow.issued_at),
            600,
            "login.lifespan: 10m"
        );
        let login_flow_id = flow.id;
        let login = frontend_api::update_login_flow(
            &public,
            &login_flow_id,
            login_body(email, PASSWORD, None),
            None,
            None,
        )
        .await
        .expect("updateLoginFlow");
        let token = login.session_token.expect("a session token");
        let by_token = frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .expect("toSession");
        assert_eq!(
            by_token.identity.map(|i| i.id),
            Some(registered.identity.id.clone())
        );
        let by_bearer =
            frontend_api::to_session(&bearer(&checks.public_url, &token), None, None, None)
                .await
                .expect("toSession with a bearer token");
        assert_eq!(by_bearer.id, by_token.id);
        frontend_api::perform_native_logout(&public, PerformNativeLogoutBody::new(token.clone()))
            .await
            .expect("performNativeLogout");
        let err = frontend_api::to_session(&public, Some(&token), None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::ResponseError(ResponseContent { status, .. }) if *status == StatusCode::UNAUTHORIZED),
            "{err:?}"
        );
        frontend_api::to_session(&public, Some(&first_token), None, None)
            .await
            .expect("the registration's session lives on");

        // A browser: sign-up with the cookie jar, toSession with the cookie, browser logout.
        let (cookie, identity_id) = browser_sign_up(&checks.public_url, "grace@example.com").await;
        let browser = browser(&checks.public_url);
        let me = frontend_api::to_session(&browser, None, Some(&cookie), None)
            .await
            .expect("toSession with the cookie");
        assert_eq!(me.identity.map(|i| i.id), Some(identity_id));
        let logout = frontend_api::create_browser_logout_flow(&browser, Some(&cookie), None)
            .await
            .expect("createBrowserLogoutFlow");
        frontend_api::update_logout_flow(&browser, Some(&logout.logout_token), None, Some(&cookie))
            .await
            .expect("updateLogoutFlow");
        assert!(
            frontend_api::to_session(&browser, None, Some(&cookie), None)
                .await
                .is_err(),
            "the cookie's session is gone"
        );

        // A browser that navigates is sent to the quickstart's UI.
        let res = app
            .public(reqwest::Method::GET, "/self-service/login/browser")
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let location = res.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("http://127.0.0.1:4455/login?flow="),
            "{location}"
        );
        checks.finish();
    }
);

fn secs(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp()
}
