//! What each field and button of the built-in pages tells the visitor and the browser: optional
//! fields marked, autofill and keyboard hints, button texts that say what they do. The flows' nodes
//! keep Kratos's names, labels and message ids; only the HTML says more.

use super::PASSWORD;
use super::browser::{Browser, form_with, input, location, open_flow, press, tags};
use super::second_factor::{link_totp, set_up_backup_codes};
use super::settings::{mfa_app, open_settings, settings_flow, settings_step, sign_up};
use sesame_testkit::reqwest::StatusCode;
use sesame_testkit::serde_json::Value;
use sesame_testkit::{TestApp, api_test};

/// The texts of the `<button>`s in `html`, in page order.
fn button_texts(html: &str) -> Vec<&str> {
    html.split("<button ")
        .skip(1)
        .filter_map(|s| s.split_once('>')?.1.split_once("</button>"))
        .map(|(text, _)| text)
        .collect()
}

/// The `<label>` of the input named `name`, as HTML.
fn label_of<'h>(html: &'h str, name: &str) -> &'h str {
    let inputs = tags(html, "input");
    let id = &input(&inputs, name)["id"];
    let start = html
        .find(&format!(r#"<label for="{id}">"#))
        .unwrap_or_else(|| panic!("no label for {name}: {html}"));
    let end = start + html[start..].find("</label>").unwrap();
    &html[start..end + "</label>".len()]
}

api_test!(
    the_sign_up_page_says_what_it_takes_and_marks_the_optional_fields,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let (_, html) = open_flow(&mut browser, "registration").await;
        // The shipped schema asks for an email; the names are optional.
        assert!(
            html.contains(
                r#"<p class="lead">It takes an email address and a password; the rest is optional.</p>"#
            ),
            "{html}"
        );
        let inputs = tags(&html, "input");
        for (name, label, required) in [
            ("traits.email", "E-Mail", true),
            ("traits.name.first", "First Name", false),
            ("traits.name.last", "Last Name", false),
            ("password", "Password", true),
        ] {
            let field = input(&inputs, name);
            assert_eq!(field.contains_key("required"), required, "{name}");
            let text = if required {
                label.to_owned()
            } else {
                format!(r#"{label} <span class="optional">(optional)</span>"#)
            };
            assert_eq!(
                label_of(&html, name),
                format!(r#"<label for="{}">{text}</label>"#, field["id"])
            );
        }
        for (name, autocomplete) in [
            ("traits.email", "email"),
            ("traits.name.first", "given-name"),
            ("traits.name.last", "family-name"),
            ("password", "new-password"),
        ] {
            assert_eq!(input(&inputs, name)["autocomplete"], autocomplete, "{name}");
        }
    }
);

api_test!(
    the_sign_in_page_autofills_a_username_and_the_current_password,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let (_, html) = open_flow(&mut browser, "login").await;
        let inputs = tags(&html, "input");
        let identifier = input(&inputs, "identifier");
        assert_eq!(identifier["autocomplete"], "username");
        assert_eq!(identifier["autocapitalize"], "none");
        assert_eq!(identifier["spellcheck"], "false");
        assert!(identifier.contains_key("required"));
        assert!(!label_of(&html, "identifier").contains("optional"));
        assert_eq!(
            input(&inputs, "password")["autocomplete"],
            "current-password"
        );
        // The flow itself is Kratos's: the identifier node names no autocomplete.
        let flow = app.login_flow().await;
        let node = flow["ui"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["attributes"]["name"] == "identifier")
            .unwrap();
        assert!(node["attributes"].get("autocomplete").is_none(), "{node}");
    }
);

api_test!(
    every_settings_button_says_what_it_does_and_the_new_password_is_labelled_so,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        sign_up(&mut browser, &[("traits.email", "buttons@example.com")]).await;
        let (id, html) = open_settings(&mut browser).await;
        assert_eq!(
            button_texts(&html),
            [
                "Save profile",
                "Change password",
                "Link authenticator app",
                "Generate new backup recovery codes"
            ]
        );
        let password = tags(form_with(&html, "method", "password"), "input");
        let password = input(&password, "password");
        assert_eq!(password["autocomplete"], "new-password");
        assert_eq!(
            label_of(&html, "password"),
            format!(r#"<label for="{}">New password</label>"#, password["id"])
        );
        let totp = tags(form_with(&html, "method", "totp"), "input");
        let code = input(&totp, "totp_code");
        assert_eq!(code["autocomplete"], "one-time-code");
        assert_eq!(code["inputmode"], "numeric");
        assert_eq!(code["pattern"], r"\s*[0-9]{6}\s*");
        assert_eq!(code["type"], "text");

        // Backup codes: generated, confirmed, then revealed or disabled.
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_regenerate", "true"),
        )
        .await;
        assert!(button_texts(&html).contains(&"Confirm backup recovery codes"));
        let html = settings_step(
            &mut browser,
            &id,
            &html,
            &[],
            ("lookup_secret_confirm", "true"),
        )
        .await;
        assert_eq!(
            &button_texts(&html)[3..],
            [
                "Reveal backup recovery codes",
                "Disable backup recovery codes"
            ]
        );
        assert!(!button_texts(&html).contains(&"Save"), "{html}");

        // The flow keeps Kratos's labels and message ids; only the page words them.
        let flow = settings_flow(&browser, &id).await;
        let label = |name: &str, value: Option<&str>| -> Value {
            flow["ui"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| {
                    n["attributes"]["name"] == name
                        && value.is_none_or(|v| n["attributes"]["value"] == v)
                })
                .unwrap_or_else(|| panic!("no node {name}"))["meta"]["label"]
                .clone()
        };
        assert_eq!(label("password", None)["id"], 1070001);
        assert_eq!(label("password", None)["text"], "Password");
        assert_eq!(label("method", Some("profile"))["id"], 1070003);
        assert_eq!(label("method", Some("profile"))["text"], "Save");
        assert_eq!(label("lookup_secret_disable", None)["id"], 1050016);
        assert_eq!(
            label("lookup_secret_disable", None)["text"],
            "Disable this method"
        );
    }
);

api_test!(
    the_second_factor_page_asks_for_codes_with_the_right_keyboard_and_autofill,
    |backend| async move {
        let app = mfa_app(backend).await;
        let mut browser = Browser::new(&app);
        sign_up(
            &mut browser,
            &[("traits.email", "codes-fields@example.com")],
        )
        .await;
        let (_, _, linked) = link_totp(&mut browser).await;
        assert!(
            linked.contains(r#"value="true">Unlink authenticator app</button>"#),
            "{linked}"
        );
        set_up_backup_codes(&mut browser).await;

        let mut other = Browser::new(&app);
        let (_, html) = open_flow(&mut other, "login").await;
        let res = press(
            &mut other,
            &html,
            &[
                ("identifier", "codes-fields@example.com"),
                ("password", PASSWORD),
            ],
            ("method", "password"),
        )
        .await;
        let res = other.get(&location(&res)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = other.page(&location(&res)).await;
        assert!(html.contains("<h1>Second factor</h1>"), "{html}");

        let inputs = tags(&html, "input");
        let code = input(&inputs, "totp_code");
        assert_eq!(code["autocomplete"], "one-time-code");
        assert_eq!(code["inputmode"], "numeric");
        assert_eq!(code["pattern"], r"\s*[0-9]{6}\s*");
        // Backup codes are compared exactly and used once: no autofill, no automatic capitals.
        let backup = input(&inputs, "lookup_secret");
        assert_eq!(backup["autocomplete"], "off");
        assert_eq!(backup["autocapitalize"], "none");
        assert_eq!(backup["spellcheck"], "false");
        assert!(!backup.contains_key("inputmode"));
    }
);
