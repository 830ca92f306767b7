//! The built-in self-service UI, driven as a browser would with plain HTTP: cookies are carried by
//! hand (the test client keeps none) and every redirect is followed explicitly.

mod browser;
mod cookies;
mod fields;
mod first_visit;
mod second_factor;
mod settings;

use browser::{
    Browser, element_text, form_action, form_fields, input, location, open_flow, submit, tags,
};
use sesame_testkit::reqwest::{Method, StatusCode, header};
use sesame_testkit::serde_json::Value;
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
const INVALID_CREDENTIALS: &str = "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.";

api_test!(
    signing_up_in_the_built_in_ui_lands_on_the_welcome_page_with_a_sign_out_link,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let (id, html) = open_flow(&mut browser, "registration").await;
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(
            html.contains(
                r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#
            )
        );
        assert_eq!(html.matches("<h1").count(), 1, "{html}");

        let flow = expect_json(
            browser
                .request(
                    Method::GET,
                    &format!("/self-service/registration/flows?id={id}"),
                )
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(form_action(&html), flow["ui"]["action"].as_str().unwrap());

        let inputs = tags(&html, "input");
        let csrf = input(&inputs, "csrf_token");
        assert_eq!(csrf["type"], "hidden");
        assert!(!csrf["value"].is_empty());
        let email = input(&inputs, "traits.email");
        assert_eq!(email["type"], "email");
        assert!(email.contains_key("required"));
        let label = format!(r#"<label for="{}">E-Mail</label>"#, email["id"]);
        assert!(html.contains(&label), "{html}");
        let password = input(&inputs, "password");
        assert_eq!(password["type"], "password");
        assert_eq!(password["autocomplete"], "new-password");
        assert!(!password.contains_key("value"));
        let buttons = tags(&html, "button");
        assert!(
            buttons
                .iter()
                .any(|b| b["type"] == "submit" && b["name"] == "method"),
            "{buttons:?}"
        );
        assert!(html.contains("Have an account?"));
        assert!(html.contains(&format!(
            r#"href="{}/self-service/login/browser">Sign in</a>"#,
            app.public_url
        )));

        let fields = form_fields(
            &html,
            &[("traits.email", "ui@example.com"), ("password", PASSWORD)],
            ("method", "password"),
        );
        let res = submit(&mut browser, &html, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let welcome = location(&res);
        assert_eq!(welcome, format!("{}/ui/welcome", app.public_url));
        assert!(browser.cookies.contains_key("ory_kratos_session"));

        let html = browser.page(&welcome).await;
        assert!(html.contains("ui@example.com"), "{html}");
        assert!(html.contains("aal1"));
        let logout = expect_json(
            browser
                .request(Method::GET, "/self-service/logout/browser")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let logout_url = logout["logout_url"].as_str().unwrap();
        let links = tags(&html, "a");
        let sign_out = links
            .iter()
            .find(|a| a["href"] == logout_url)
            .unwrap_or_else(|| panic!("no link to {logout_url} in {html}"));
        assert!(!sign_out["href"].contains("return_to"));
        assert!(html.contains(&format!(r#"href="{logout_url}">Sign out</a>"#)));

        // Signing out leads back to the welcome page, which now offers to sign in.
        let res = browser.get(logout_url).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), welcome);
        assert!(!browser.cookies.contains_key("ory_kratos_session"));
        let html = browser.page(&welcome).await;
        assert!(!html.contains("ui@example.com"));
        assert!(html.contains(&format!(
            r#"href="{}/self-service/login/browser""#,
            app.public_url
        )));
        assert!(html.contains(&format!(
            r#"href="{}/self-service/registration/browser""#,
            app.public_url
        )));
    }
);

api_test!(
    a_failed_sign_in_shows_the_credentials_error_in_an_alert_and_keeps_the_identifier,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        app.register("known@example.com", PASSWORD).await;
        let mut browser = Browser::new(&app);
        let (id, html) = open_flow(&mut browser, "login").await;
        assert!(html.contains("No account?"));
        assert!(html.contains(&format!(
            r#"href="{}/self-service/registration/browser">Sign up</a>"#,
            app.public_url
        )));
        assert!(!html.contains(r#"role="alert""#));
        let inputs = tags(&html, "input");
        assert_eq!(
            input(&inputs, "password")["autocomplete"],
            "current-password"
        );

        let fields = form_fields(
            &html,
            &[
                ("identifier", "known@example.com"),
                ("password", "not-the-password-1"),
            ],
            ("method", "password"),
        );
        let res = submit(&mut browser, &html, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let back = location(&res);
        assert_eq!(back, format!("{}/ui/login?flow={id}", app.public_url));

        let html = browser.page(&back).await;
        let alert_at = html
            .find(r#"role="alert""#)
            .unwrap_or_else(|| panic!("no alert region: {html}"));
        let alert_end = alert_at + html[alert_at..].find("</div>").unwrap();
        assert!(
            html[alert_at..alert_end].contains(INVALID_CREDENTIALS),
            "{html}"
        );
        assert!(html[alert_at..alert_end].contains(r#"data-message-id="4000006""#));
        // The alert comes before the form.
        assert!(alert_at < html.find("<form").unwrap());
        let inputs = tags(&html, "input");
        assert_eq!(input(&inputs, "identifier")["value"], "known@example.com");
        assert!(!html.contains("not-the-password-1"));
        assert!(!input(&inputs, "password").contains_key("value"));
    }
);

api_test!(
    a_missing_email_is_shown_next_to_the_field_and_marks_it_invalid,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let (id, html) = open_flow(&mut browser, "registration").await;
        let fields: Vec<(String, String)> =
            form_fields(&html, &[("password", PASSWORD)], ("method", "password"))
                .into_iter()
                .filter(|(k, _)| k != "traits.email")
                .collect();
        let res = submit(&mut browser, &html, &fields).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        let back = location(&res);
        assert_eq!(
            back,
            format!("{}/ui/registration?flow={id}", app.public_url)
        );

        let html = browser.page(&back).await;
        let inputs = tags(&html, "input");
        let email = input(&inputs, "traits.email");
        assert_eq!(email["aria-invalid"], "true", "{email:?}");
        let described = &email["aria-describedby"];
        assert!(
            element_text(&html, described).contains("Property email is missing."),
            "{html}"
        );
        // The message sits right after its field.
        let field_at = html.find(r#"name="traits.email""#).unwrap();
        let message_at = html.find("Property email is missing.").unwrap();
        assert!(field_at < message_at);
        assert!(!html[field_at..message_at].contains("<input"));
        // Fields without errors are not marked.
        assert!(!input(&inputs, "password").contains_key("aria-invalid"));
    }
);

api_test!(
    the_ui_pages_start_a_new_flow_when_theirs_cannot_be_shown,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let base = &app.public_url;
        for (path, to) in [
            ("/ui/login", format!("{base}/self-service/login/browser")),
            (
                "/ui/registration",
                format!("{base}/self-service/registration/browser"),
            ),
            (
                "/ui/login?flow=5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
                format!("{base}/self-service/login/browser"),
            ),
            (
                "/ui/login?flow=not-a-uuid",
                format!("{base}/self-service/login/browser"),
            ),
            (
                "/ui/login?return_to=%2Fui%2Fwelcome&aal=aal1&other=x",
                format!("{base}/self-service/login/browser?return_to=%2Fui%2Fwelcome&aal=aal1"),
            ),
        ] {
            let res = browser.get(path).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&res), to, "{path}");
        }

        // A real flow, but another browser (no anti-CSRF cookie, or a different one).
        let (id, _) = open_flow(&mut browser, "login").await;
        let mut stranger = Browser::new(&app);
        // Without any anti-CSRF cookie it is handed one and comes back to see that it kept it
        // (see ui/cookies.rs), then goes on to a new flow.
        let res = stranger.get(&format!("/ui/login?flow={id}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let back = location(&res);
        assert_eq!(back, format!("{base}/ui/login?flow={id}&cookie_check=1"));
        let res = stranger.get(&back).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{base}/self-service/login/browser"));
        let (_, _) = open_flow(&mut stranger, "registration").await;
        let res = stranger.get(&format!("/ui/login?flow={id}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // An expired flow.
        app.clock.advance(chrono::Duration::hours(2));
        let res = browser.get(&format!("/ui/login?flow={id}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{base}/self-service/login/browser"));

        // An API flow is not for browsers.
        let api: Value = app.registration_flow().await;
        let res = browser
            .get(&format!(
                "/ui/registration?flow={}",
                api["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
);

api_test!(
    the_error_page_shows_the_error_as_text,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let html = browser.page("/ui/error").await;
        assert!(html.contains("Something went wrong"));
        assert_eq!(html.matches("<h1").count(), 1);

        let html = browser
            .page("/ui/error?error=security_csrf_violation")
            .await;
        assert!(html.contains("Request blocked"), "{html}");
        assert!(html.contains("<code>security_csrf_violation</code>"));

        let html = browser
            .page("/ui/error?id=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            .await;
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
);

api_test!(
    trait_values_are_escaped_in_the_form_and_on_the_welcome_page,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let (_, html) = open_flow(&mut browser, "registration").await;
        let evil = "<script>alert('x')</script>";

        // An invalid email is echoed into the form, escaped.
        let fields = form_fields(
            &html,
            &[("traits.email", evil), ("password", PASSWORD)],
            ("method", "password"),
        );
        let res = submit(&mut browser, &html, &fields).await;
        let back = location(&res);
        let html = browser.page(&back).await;
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("value=\"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;\""),
            "{html}"
        );
        assert_eq!(input(&tags(&html, "input"), "traits.email")["value"], evil);

        // A first name with markup, shown on the welcome page.
        let fields = form_fields(
            &html,
            &[
                ("traits.email", "escape@example.com"),
                ("traits.name.first", evil),
                ("password", PASSWORD),
            ],
            ("method", "password"),
        );
        let res = submit(&mut browser, &html, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = browser.page(&location(&res)).await;
        assert!(html.contains("escape@example.com"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"),
            "{html}"
        );
    }
);

api_test!(
    the_stylesheet_is_served_and_cacheable,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/ui/style.css")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        let cache = res.headers()[header::CACHE_CONTROL].to_str().unwrap();
        assert!(cache.starts_with("public, max-age="), "{cache}");
        let css = res.text().await.unwrap();
        assert!(css.contains("max-width: 28rem"));
        assert!(css.contains(":focus-visible"));
        // Pages stay uncached.
        let res = app.public(Method::GET, "/ui/welcome").send().await.unwrap();
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "private, no-cache, no-store, must-revalidate"
        );
    }
);

api_test!(
    the_welcome_page_is_the_default_return_url_unless_one_is_configured,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env(
                "SELFSERVICE_DEFAULT_BROWSER_RETURN_URL",
                "https://app.example.com/home",
            )
            .spawn()
            .await;
        let mut browser = Browser::new(&app);
        let (_, html) = open_flow(&mut browser, "registration").await;
        let fields = form_fields(
            &html,
            &[
                ("traits.email", "configured@example.com"),
                ("password", PASSWORD),
            ],
            ("method", "password"),
        );
        let res = submit(&mut browser, &html, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/home");
        // The page lets the browser follow that redirect after the form post.
        let res = browser.get("/ui/welcome").await;
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains(" https://app.example.com;"), "{csp}");
        let html = res.text().await.unwrap();
        assert!(html.contains("configured@example.com"));
    }
);

#[test]
fn a_configured_default_return_url_must_be_a_url() {
    let env = |name: &str| {
        (name == "SELFSERVICE_DEFAULT_BROWSER_RETURN_URL").then(|| "not a url".to_owned())
    };
    let err = sesame_server::load(None, true, &env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("selfservice.default_browser_return_url"),
        "{err}"
    );
    let unset = sesame_server::load(None, true, &|_: &str| None).unwrap();
    assert_eq!(unset.config.selfservice.default_browser_return_url, None);
}
