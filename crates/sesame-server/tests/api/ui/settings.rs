//! The built-in settings page (`/ui/settings`), driven as a browser would: every method's form,
//! TOTP and backup codes set up there, sign-in first for visitors without a session, escaping.
//! Helpers shared with the second-factor sign-in tests live here.

use super::PASSWORD;
use super::browser::{
    Browser, codes, element_text, form_fields, form_with, input, location, open_flow, press,
    submit, tags,
};
use sesame_core::Clock;
use sesame_testkit::reqwest::{Method, StatusCode, header};
use sesame_testkit::serde_json::Value;
use sesame_testkit::{Backend, TestApp, api_test, expect_json};

/// A server with TOTP and backup codes enabled.
pub(super) async fn mfa_app(backend: Backend) -> TestApp {
    TestApp::builder(backend)
        .env("SELFSERVICE_METHODS_TOTP_ENABLED", "true")
        .env("SELFSERVICE_METHODS_LOOKUP_SECRET_ENABLED", "true")
        .spawn()
        .await
}

/// Signs up in the built-in UI with these traits; the browser ends up signed in.
pub(super) async fn sign_up(browser: &mut Browser<'_>, traits: &[(&str, &str)]) {
    let (_, html) = open_flow(browser, "registration").await;
    let mut fill = traits.to_vec();
    fill.push(("password", PASSWORD));
    let fields = form_fields(&html, &fill, ("method", "password"));
    let res = submit(browser, &html, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(browser.cookies.contains_key("ory_kratos_session"));
}

/// `/self-service/settings/browser` → 303 → the settings page; returns the flow id and the HTML.
pub(super) async fn open_settings(browser: &mut Browser<'_>) -> (String, String) {
    let res = browser.get("/self-service/settings/browser").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    let prefix = format!("{}/ui/settings?flow=", browser.app.public_url);
    let id = to
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{to} is not under {prefix}"))
        .to_owned();
    let html = browser.page(&to).await;
    (id, html)
}

/// The settings flow `id` as JSON, read with the browser's cookies.
pub(super) async fn settings_flow(browser: &Browser<'_>, id: &str) -> Value {
    let res = browser
        .request(
            Method::GET,
            &format!("/self-service/settings/flows?id={id}"),
        )
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await
}

/// Presses a settings button and follows the 303 back to the settings page.
pub(super) async fn settings_step(
    browser: &mut Browser<'_>,
    id: &str,
    html: &str,
    fill: &[(&str, &str)],
    button: (&str, &str),
) -> String {
    let res = press(browser, html, fill, button).await;
    assert!(
        res.status().is_redirection(),
        "{button:?}: {}",
        res.status()
    );
    let back = location(&res);
    assert_eq!(
        back,
        format!("{}/ui/settings?flow={id}", browser.app.public_url)
    );
    browser.page(&back).await
}

pub(super) async fn whoami(browser: &Browser<'_>) -> Value {
    expect_json(
        browser
            .request(Method::GET, "/sessions/whoami")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

/// The global messages region: its `role` and its HTML.
pub(super) fn messages(html: &str) -> (String, &str) {
    let at = html
        .find(r#"<div class="messages"#)
        .unwrap_or_else(|| panic!("no messages: {html}"));
    let end = at + html[at..].find("</div>").unwrap();
    let role = tags(&html[at..end], "div")[0]["role"].clone();
    (role, &html[at..end])
}

api_test!(
    the_settings_page_shows_every_method_and_links_an_authenticator_app,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        sign_up(&mut browser, &[("traits.email", "settings@example.com")]).await;
        let welcome = browser.page("/ui/welcome").await;
        assert!(
            welcome.contains(&format!(
                r#"href="{}/self-service/settings/browser">Account settings</a>"#,
                app.public_url
            )),
            "{welcome}"
        );

        let res = browser.get("/self-service/settings/browser").await;
        let to = location(&res);
        let res = browser.get(&to).await;
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        // The QR code is a data: image.
        assert!(csp.contains("img-src 'self' data:;"), "{csp}");
        let (id, html) = open_settings(&mut browser).await;
        assert_eq!(html.matches("<h1").count(), 1);
        assert!(html.contains("<title>Account settings · Sesame</title>"));
        assert!(html.contains("Signed in as settings@example.com."));
        for (group, title) in [
            ("profile", "Profile"),
            ("password", "Password"),
            ("lookup_secret", "Backup recovery codes"),
            ("totp", "Authenticator app"),
        ] {
            assert!(
                html.contains(&format!(r#"<h2 id="group-{group}">{title}</h2>"#)),
                "{html}"
            );
        }
        assert_eq!(section_order(&html), SECTIONS);

        // One form per method, each posting to the flow's action (and coming back to its own
        // section) with the anti-CSRF token.
        let flow = settings_flow(&browser, &id).await;
        let forms = tags(&html, "form");
        assert_eq!(forms.len(), 4, "{html}");
        for (form, section) in forms.iter().zip(SECTIONS) {
            assert_eq!(
                form["action"],
                format!("{}#{section}", flow["ui"]["action"].as_str().unwrap())
            );
            assert_eq!(form["method"], "post");
        }
        let csrf = tags(&html, "input")
            .into_iter()
            .filter(|i| i["name"] == "csrf_token")
            .collect::<Vec<_>>();
        assert_eq!(csrf.len(), 4);
        assert!(
            csrf.iter()
                .all(|i| i["type"] == "hidden" && !i["value"].is_empty())
        );

        let profile = tags(form_with(&html, "method", "profile"), "input");
        assert_eq!(
            input(&profile, "traits.email")["value"],
            "settings@example.com"
        );
        let password = tags(form_with(&html, "method", "password"), "input");
        assert_eq!(input(&password, "password")["autocomplete"], "new-password");
        assert!(!input(&password, "password").contains_key("value"));
        let buttons = tags(&html, "button");
        assert!(
            buttons
                .iter()
                .any(|b| b["name"] == "lookup_secret_regenerate" && b["value"] == "true"),
            "{buttons:?}"
        );

        // The authenticator app: QR code, the secret as text, a code field and its button.
        let totp = form_with(&html, "method", "totp");
        let images = tags(totp, "img");
        assert_eq!(images.len(), 1, "{totp}");
        assert!(images[0]["src"].starts_with("data:image/png;base64,"));
        assert_eq!(images[0]["alt"], "Authenticator app QR code");
        let secret = element_text(&html, "field-totp_secret_key");
        let offered = flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["attributes"]["id"] == "totp_secret_key")
            .unwrap();
        assert_eq!(
            secret,
            offered["attributes"]["text"]["text"].as_str().unwrap()
        );
        assert!(html.contains("Use it if you can not scan the QR code."));
        let code_input = tags(totp, "input");
        let code_input = input(&code_input, "totp_code");
        assert!(code_input.contains_key("required"));
        assert!(html.contains(&format!(
            r#"<a href="{}/ui/welcome">Back to your account</a>"#,
            app.public_url
        )));

        // A wrong code is shown next to the field.
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[("totp_code", "000000")],
            ("method", "totp"),
        )
        .await;
        let totp_code = tags(&html, "input");
        let totp_code = input(&totp_code, "totp_code");
        assert_eq!(totp_code["aria-invalid"], "true");
        assert!(
            element_text(&html, &totp_code["aria-describedby"]).contains("invalid"),
            "{html}"
        );

        // The right one links the app: a success message, and the app can be unlinked.
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[("totp_code", &code)],
            ("method", "totp"),
        )
        .await;
        let (role, region) = messages(&html);
        assert_eq!(role, "status");
        assert!(region.contains("messages-success"), "{region}");
        assert!(region.contains(r#"data-message-id="1050001""#), "{region}");
        assert!(html.contains(
            r#"<button type="submit" name="totp_unlink" value="true">Unlink authenticator app</button>"#
        ), "{html}");
        assert!(tags(&html, "img").is_empty());
        let me = whoami(&browser).await;
        assert_eq!(me["authenticator_assurance_level"], "aal2");
    }
);

/// The settings page's sections, top to bottom, in every state of the flow.
const SECTIONS: [&str; 4] = [
    "group-profile",
    "group-password",
    "group-totp",
    "group-lookup_secret",
];

/// The ids of the page's section headings, in page order.
fn section_order(html: &str) -> Vec<String> {
    tags(html, "h2")
        .into_iter()
        .map(|h| h["id"].clone())
        .collect()
}

/// The fragment each form posts with (`""` for none), in page order.
fn form_fragments(html: &str) -> Vec<String> {
    tags(html, "form")
        .into_iter()
        .map(|f| {
            f["action"]
                .split_once('#')
                .map(|(_, fragment)| fragment.to_owned())
                .unwrap_or_default()
        })
        .collect()
}

api_test!(
    the_settings_sections_keep_their_order_and_each_form_returns_to_its_section,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        sign_up(&mut browser, &[("traits.email", "order@example.com")]).await;
        let (id, html) = open_settings(&mut browser).await;
        assert_eq!(section_order(&html), SECTIONS);
        assert_eq!(form_fragments(&html), SECTIONS);
        // No messages yet: nothing to repeat in the sections.
        assert!(!html.contains("messages-here"), "{html}");

        // Generated codes are shown in their section, which stays last.
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_regenerate", "true"),
        )
        .await;
        assert_eq!(section_order(&html), SECTIONS);
        assert_eq!(form_fragments(&html), SECTIONS);
        let codes_at = html.find(r#"id="field-lookup_secret_codes""#).unwrap();
        assert!(html.find(r#"id="group-lookup_secret""#).unwrap() < codes_at);

        // Saved: the message sits at the top, and again, hidden until the page is opened at it,
        // under each section's heading.
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_confirm", "true"),
        )
        .await;
        assert_eq!(section_order(&html), SECTIONS);
        let (role, top) = messages(&html);
        assert_eq!(role, "status");
        assert!(top.contains(r#"data-message-id="1050001""#), "{top}");
        assert!(html.find(top).unwrap() < html.find("<h2").unwrap());
        for section in SECTIONS {
            let copy = format!(
                r#"{}</h2>
<div class="messages messages-success messages-here" role="status" hidden>"#,
                element_text(&html, section)
            );
            let at = html
                .find(&copy)
                .unwrap_or_else(|| panic!("{section}: {html}"));
            assert!(
                html[..at].ends_with(&format!(r#"<h2 id="{section}">"#)),
                "{section}"
            );
        }

        // Linking the authenticator app: the same order, now with the unlink button.
        let secret_page = html;
        let secret = element_text(&secret_page, "field-totp_secret_key");
        let code = sesame_testkit::totp_code(&secret, app.clock.now());
        let html = settings_step(
            &mut browser,
            &id,
            &secret_page,
            &[("totp_code", &code)],
            ("method", "totp"),
        )
        .await;
        assert_eq!(section_order(&html), SECTIONS);
        assert!(
            form_with(&html, "totp_unlink", "true").contains("#group-totp\""),
            "{html}"
        );
    }
);

api_test!(
    a_settings_form_posts_without_a_fragment_when_saving_leads_to_a_return_url,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("SELFSERVICE_METHODS_TOTP_ENABLED", "true")
            .env(
                "SELFSERVICE_FLOWS_SETTINGS_AFTER_PASSWORD_DEFAULT_BROWSER_RETURN_URL",
                "https://app.example.com/password-changed",
            )
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/",
            )
            .spawn()
            .await;
        let mut browser = Browser::new(&app);
        sign_up(&mut browser, &[("traits.email", "fragments@example.com")]).await;
        let (_, html) = open_settings(&mut browser).await;
        // A fragment would follow the browser to the return URL.
        assert_eq!(form_fragments(&html), ["group-profile", "", "group-totp"]);

        // A flow with its own return_to returns there from every form.
        let res = browser
            .get("/self-service/settings/browser?return_to=https://app.example.com/done")
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = browser.page(&location(&res)).await;
        assert_eq!(form_fragments(&html), ["", "", ""]);
    }
);

api_test!(
    backup_codes_are_generated_listed_and_confirmed_on_the_settings_page,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        sign_up(&mut browser, &[("traits.email", "codes@example.com")]).await;
        let (id, html) = open_settings(&mut browser).await;
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_regenerate", "true"),
        )
        .await;
        assert!(html.contains(
            r#"<ul class="text-list" id="field-lookup_secret_codes" aria-labelledby="field-lookup_secret_codes-label">"#
        ), "{html}");
        assert!(html.contains("These are your back up recovery codes."));
        let list = element_text(&html, "field-lookup_secret_codes");
        let shown = codes(&html);
        assert_eq!(shown.len(), 12, "{html}");
        assert!(shown.iter().all(|c| list.contains(c.as_str())));
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_confirm", "true"),
        )
        .await;
        assert!(messages(&html).1.contains(r#"data-message-id="1050001""#));
        assert!(
            html.contains(r#"name="lookup_secret_reveal" value="true""#),
            "{html}"
        );
        let me = whoami(&browser).await;
        assert_eq!(me["authenticator_assurance_level"], "aal2");

        // Revealed later, the same codes.
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_reveal", "true"),
        )
        .await;
        assert_eq!(codes(&html), shown);
    }
);

api_test!(
    the_settings_page_sends_a_visitor_without_a_session_to_sign_in,
    |backend| async move {
        let app = mfa_app(backend).await;
        let base = &app.public_url;
        let mut stranger = Browser::new(&app);
        for path in ["/ui/settings", "/ui/settings?flow=not-a-uuid"] {
            let res = stranger.get(path).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(
                location(&res),
                format!("{base}/self-service/settings/browser")
            );
        }
        let res = stranger.get("/ui/settings?return_to=%2Fui%2Fwelcome").await;
        assert_eq!(
            location(&res),
            format!("{base}/self-service/settings/browser?return_to=%2Fui%2Fwelcome")
        );
        let res = stranger.get("/self-service/settings/browser").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{base}/self-service/login/browser"));

        // A real flow, opened without a session: sign in, then come back to settings.
        let mut owner = Browser::new(&app);
        sign_up(&mut owner, &[("traits.email", "owner@example.com")]).await;
        let (id, _) = open_settings(&mut owner).await;
        let res = stranger.get(&format!("/ui/settings?flow={id}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert_eq!(
            to,
            format!(
                "{base}/self-service/login/browser?return_to={}",
                form_urlencoded_component(&format!("{base}/self-service/settings/browser"))
            )
        );
        let res = stranger.get(&to).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, html) = {
            let page = location(&res);
            (page.clone(), stranger.page(&page).await)
        };
        let fields = form_fields(
            &html,
            &[("identifier", "owner@example.com"), ("password", PASSWORD)],
            ("method", "password"),
        );
        let res = submit(&mut stranger, &html, &fields).await;
        assert_eq!(
            location(&res),
            format!("{base}/self-service/settings/browser")
        );

        // Someone else's flow is not shown: this browser gets a flow of its own.
        let mut other = Browser::new(&app);
        sign_up(&mut other, &[("traits.email", "other@example.com")]).await;
        let res = other.get(&format!("/ui/settings?flow={id}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("{base}/self-service/settings/browser")
        );
        let (mine, html) = open_settings(&mut other).await;
        assert_ne!(mine, id);
        assert!(html.contains("other@example.com"));
        assert!(!html.contains("owner@example.com"));

        // An unknown or expired flow starts over too.
        let res = other
            .get("/ui/settings?flow=5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5")
            .await;
        assert_eq!(
            location(&res),
            format!("{base}/self-service/settings/browser")
        );
        app.clock.advance(chrono::Duration::hours(2));
        let res = other.get(&format!("/ui/settings?flow={mine}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("{base}/self-service/settings/browser")
        );
    }
);

fn form_urlencoded_component(s: &str) -> String {
    sesame_testkit::reqwest::Url::parse_with_params("http://x/", &[("v", s)])
        .unwrap()
        .query()
        .unwrap()
        .trim_start_matches("v=")
        .to_owned()
}

api_test!(
    trait_values_are_escaped_on_the_settings_page,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        let evil = "<script>alert('x')</script>";
        sign_up(
            &mut browser,
            &[
                ("traits.email", "escape-settings@example.com"),
                ("traits.name.first", evil),
            ],
        )
        .await;
        let (id, html) = open_settings(&mut browser).await;
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains(r#"value="&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;""#),
            "{html}"
        );
        let profile = tags(form_with(&html, "method", "profile"), "input");
        assert_eq!(input(&profile, "traits.name.first")["value"], evil);

        // Saved again through the page, and shown escaped once more.
        let html = settings_step(&mut browser, &id, &html, &[], ("method", "profile")).await;
        assert!(!html.contains("<script"), "{html}");
        assert!(messages(&html).1.contains(r#"data-message-id="1050001""#));
        let profile = tags(form_with(&html, "method", "profile"), "input");
        assert_eq!(input(&profile, "traits.name.first")["value"], evil);
    }
);
