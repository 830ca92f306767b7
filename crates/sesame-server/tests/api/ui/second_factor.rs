//! The second-factor sign-in page: after a password, an identity with TOTP or backup codes set up
//! on `/ui/settings` continues on `/ui/login` with an `aal=aal2` flow, driven as a browser would.

use super::PASSWORD;
use super::browser::{
    Browser, codes, element_text, form_fields, form_with, location, open_flow, press, submit, tags,
};
use super::settings::{messages, mfa_app, open_settings, settings_step, sign_up, whoami};
use sesame_core::Clock;
use sesame_testkit::reqwest::{Method, StatusCode};
use sesame_testkit::{api_test, expect_json};

/// Links an authenticator app on the settings page with the secret shown there; returns the
/// secret, the code used, and the page after.
pub(super) async fn link_totp(browser: &mut Browser<'_>) -> (String, String, String) {
    let (id, html) = open_settings(browser).await;
    let secret = element_text(&html, "field-totp_secret_key");
    let code = sesame_testkit::totp_code(&secret, browser.app.clock.now());
    let html = settings_step(
        browser,
        &id,
        &html,
        &[("totp_code", &code)],
        ("method", "totp"),
    )
    .await;
    (secret, code, html)
}

/// Generates backup codes on the settings page and confirms them; returns the settings flow's id
/// and the codes.
pub(super) async fn set_up_backup_codes(browser: &mut Browser<'_>) -> (String, Vec<String>) {
    let (id, html) = open_settings(browser).await;
    let html = settings_step(
        browser,
        &id,
        &html,
        &[],
        ("lookup_secret_regenerate", "true"),
    )
    .await;
    let backup = codes(&html);
    settings_step(browser, &id, &html, &[], ("lookup_secret_confirm", "true")).await;
    (id, backup)
}

api_test!(
    a_password_sign_in_with_totp_continues_on_the_second_factor_page,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        sign_up(&mut browser, &[("traits.email", "second@example.com")]).await;
        let (secret, used, _) = link_totp(&mut browser).await;
        let (settings_id, backup) = set_up_backup_codes(&mut browser).await;

        // A new browser signs in with the password …
        let mut other = Browser::new(&app);
        let (_, html) = open_flow(&mut other, "login").await;
        let fields = form_fields(
            &html,
            &[("identifier", "second@example.com"), ("password", PASSWORD)],
            ("method", "password"),
        );
        let res = submit(&mut other, &html, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let next = location(&res);
        assert_eq!(
            next,
            format!("{}/self-service/login/browser?aal=aal2", app.public_url)
        );
        let res = other.get(&next).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = location(&res);
        assert!(page.starts_with(&format!("{}/ui/login?flow=", app.public_url)));
        let html = other.page(&page).await;

        // … and lands on the second-factor page: no identifier or password, a code per factor.
        assert!(html.contains("<h1>Second factor</h1>"), "{html}");
        let (role, region) = messages(&html);
        assert_eq!(role, "status");
        assert!(region.contains(r#"data-message-id="1010004""#), "{region}");
        assert!(region.contains("Please complete the second authentication challenge."));
        let inputs = tags(&html, "input");
        assert!(
            !inputs
                .iter()
                .any(|i| i["name"] == "identifier" || i["name"] == "password"),
            "{inputs:?}"
        );
        assert_eq!(tags(&html, "form").len(), 2);
        assert!(html.contains(r#"<h2 id="group-totp">Authenticator app</h2>"#));
        let totp = form_with(&html, "method", "totp");
        assert!(totp.contains(r#">Authentication code</label>"#), "{totp}");
        assert!(
            totp.contains(
                r#"<button type="submit" name="method" value="totp">Use Authenticator</button>"#
            ),
            "{totp}"
        );
        assert!(!totp.contains("lookup_secret"));
        let lookup = form_with(&html, "method", "lookup_secret");
        assert!(
            lookup.contains(r#">Backup recovery code</label>"#),
            "{lookup}"
        );
        assert!(
            lookup.contains(r#"value="lookup_secret">Use backup recovery code</button>"#),
            "{lookup}"
        );
        // Someone without their phone can sign out instead.
        let logout = expect_json(
            other
                .request(Method::GET, "/self-service/logout/browser")
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let logout_url = logout["logout_url"].as_str().unwrap();
        assert!(
            html.contains(&format!(r#"<a href="{logout_url}">Sign out</a>"#)),
            "{html}"
        );

        // The settings page of this half-signed-in session asks for the second factor first.
        let res = other.get(&format!("/ui/settings?flow={settings_id}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&res).starts_with(&format!(
                "{}/self-service/login/browser?aal=aal2&return_to=",
                app.public_url
            )),
            "{}",
            location(&res)
        );

        // The code that linked the app is refused …
        let res = press(
            &mut other,
            &html,
            &[("totp_code", &used)],
            ("method", "totp"),
        )
        .await;
        assert_eq!(location(&res), page);
        let html = other.page(&page).await;
        let (role, region) = messages(&html);
        assert_eq!(role, "alert");
        assert!(region.contains(r#"data-message-id="4000008""#), "{region}");

        // … the next one signs in at aal2.
        app.clock.advance(chrono::Duration::seconds(30));
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let res = press(
            &mut other,
            &html,
            &[("totp_code", &code)],
            ("method", "totp"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{}/ui/welcome", app.public_url));
        let welcome = other.page(&location(&res)).await;
        assert!(welcome.contains("aal2 (two factors)"), "{welcome}");
        assert_eq!(
            whoami(&other).await["authenticator_assurance_level"],
            "aal2"
        );

        // A third browser uses a backup code instead.
        let mut third = Browser::new(&app);
        let (_, html) = open_flow(&mut third, "login").await;
        let fields = form_fields(
            &html,
            &[("identifier", "second@example.com"), ("password", PASSWORD)],
            ("method", "password"),
        );
        let res = submit(&mut third, &html, &fields).await;
        let res = third.get(&location(&res)).await;
        let html = third.page(&location(&res)).await;
        let res = press(
            &mut third,
            &html,
            &[("lookup_secret", &backup[0])],
            ("method", "lookup_secret"),
        )
        .await;
        assert_eq!(location(&res), format!("{}/ui/welcome", app.public_url));
        let me = whoami(&third).await;
        assert_eq!(me["authenticator_assurance_level"], "aal2");
        let methods: Vec<&str> = me["authentication_methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["method"].as_str().unwrap())
            .collect();
        assert_eq!(methods, ["password", "lookup_secret"]);
    }
);
