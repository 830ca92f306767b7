//! What a field or button means on the page it is shown on, beyond what its node says: autofill
//! and keyboard hints, a clearer label, a button text that says what it does. Only the HTML gets
//! them; the flow's nodes (names, values, message ids) stay Kratos's.

use super::form::group_title;
use sesame_types::UiNode;

/// The page a flow's form is shown on: some fields mean different things on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Sign-in, re-authentication and second factors.
    Login,
    /// Sign-up.
    Registration,
    /// Account settings.
    Settings,
}

/// Hints for one text-like `<input>`, filled in where the node leaves them out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct InputHints {
    /// The label, when the node's would mislead here.
    pub label: Option<String>,
    /// `autocomplete`.
    pub autocomplete: Option<&'static str>,
    /// `inputmode`.
    pub inputmode: Option<&'static str>,
    /// `pattern`.
    pub pattern: Option<&'static str>,
    /// Typed exactly as shown: no automatic capitals, no spell-check.
    pub literal: bool,
}

/// What the server accepts as a TOTP code: six digits, surrounding whitespace ignored.
const TOTP_PATTERN: &str = r"\s*[0-9]{6}\s*";

/// The hints for input `name` of HTML type `input_type` on `page`.
pub(super) fn input_hints(page: Page, name: &str, input_type: &str) -> InputHints {
    match (name, input_type) {
        (_, "password") if page == Page::Login => InputHints {
            autocomplete: Some("current-password"),
            ..InputHints::default()
        },
        (_, "password") => InputHints {
            // On the settings page the field replaces the password; "Password" alone reads as
            // a request for the current one.
            label: (page == Page::Settings).then(|| "New password".to_owned()),
            autocomplete: Some("new-password"),
            ..InputHints::default()
        },
        ("identifier", _) => InputHints {
            autocomplete: Some("username"),
            literal: true,
            ..InputHints::default()
        },
        ("totp_code", _) => InputHints {
            autocomplete: Some("one-time-code"),
            inputmode: Some("numeric"),
            pattern: Some(TOTP_PATTERN),
            ..InputHints::default()
        },
        // Backup codes are compared exactly and used once: nothing to remember or correct.
        ("lookup_secret", _) => InputHints {
            autocomplete: Some("off"),
            literal: true,
            ..InputHints::default()
        },
        ("traits.name.first", _) => InputHints {
            autocomplete: Some("given-name"),
            ..InputHints::default()
        },
        ("traits.name.last", _) => InputHints {
            autocomplete: Some("family-name"),
            ..InputHints::default()
        },
        _ => InputHints::default(),
    }
}

/// Kratos's "Save", on every settings method's submit button.
const SAVE: u32 = 1070003;
/// Kratos's "Disable this method", on the backup codes' disable button.
const DISABLE_THIS_METHOD: u32 = 1050016;
/// Kratos's "Unlink TOTP Authenticator App": worded here like the section and its link button.
const UNLINK_TOTP: u32 = 1050004;

/// A text for a submit button whose label does not say what it does (Kratos's generic "Save" or
/// "Disable this method") or says it unlike the rest of the page, from the node's group: `None`
/// keeps the label.
pub(super) fn button_label(node: &UiNode) -> Option<String> {
    let id = node.meta.label.as_ref()?.id;
    let thing = || lower_first(&group_title(&node.group));
    match id {
        SAVE => Some(match node.group.as_str() {
            "password" => "Change password".to_owned(),
            "totp" => "Link authenticator app".to_owned(),
            "webauthn" => "Add security key".to_owned(),
            "passkey" => "Add passkey".to_owned(),
            _ => format!("Save {}", thing()),
        }),
        DISABLE_THIS_METHOD => Some(format!("Disable {}", thing())),
        UNLINK_TOTP => Some(format!("Unlink {}", thing())),
        _ => None,
    }
}

/// `Backup recovery codes` → `backup recovery codes`: a title in the middle of a sentence.
fn lower_first(title: &str) -> String {
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn button(group: &str, label_id: u32, text: &str) -> UiNode {
        serde_json::from_value(json!({
            "type": "input",
            "group": group,
            "attributes": {"name": "method", "type": "submit", "value": group, "disabled": false, "node_type": "input"},
            "messages": [],
            "meta": {"label": {"id": label_id, "text": text, "type": "info"}}
        }))
        .unwrap()
    }

    #[test]
    fn save_buttons_say_what_they_save() {
        let label = |group| button_label(&button(group, SAVE, "Save"));
        assert_eq!(label("profile").as_deref(), Some("Save profile"));
        assert_eq!(label("password").as_deref(), Some("Change password"));
        assert_eq!(label("totp").as_deref(), Some("Link authenticator app"));
        assert_eq!(
            label("lookup_secret").as_deref(),
            Some("Save backup recovery codes")
        );
        assert_eq!(label("magic_link").as_deref(), Some("Save magic link"));
        assert_eq!(
            button_label(&button(
                "lookup_secret",
                DISABLE_THIS_METHOD,
                "Disable this method"
            ))
            .as_deref(),
            Some("Disable backup recovery codes")
        );
        assert_eq!(
            button_label(&button(
                "totp",
                UNLINK_TOTP,
                "Unlink TOTP Authenticator App"
            ))
            .as_deref(),
            Some("Unlink authenticator app")
        );
        // Labels that already say what they do are kept.
        assert_eq!(
            button_label(&button("password", 1010022, "Sign in with password")),
            None
        );
    }

    #[test]
    fn inputs_get_autofill_and_keyboard_hints_for_their_page() {
        let login = input_hints(Page::Login, "password", "password");
        assert_eq!(login.autocomplete, Some("current-password"));
        assert_eq!(login.label, None);
        let settings = input_hints(Page::Settings, "password", "password");
        assert_eq!(settings.autocomplete, Some("new-password"));
        assert_eq!(settings.label.as_deref(), Some("New password"));
        let registration = input_hints(Page::Registration, "password", "password");
        assert_eq!(
            (registration.autocomplete, registration.label),
            (Some("new-password"), None)
        );
        let identifier = input_hints(Page::Login, "identifier", "text");
        assert_eq!(identifier.autocomplete, Some("username"));
        assert!(identifier.literal);
        let totp = input_hints(Page::Settings, "totp_code", "text");
        assert_eq!(
            (totp.autocomplete, totp.inputmode),
            (Some("one-time-code"), Some("numeric"))
        );
        // The browser checks the pattern; the e2e tests type codes into it.
        assert_eq!(totp.pattern, Some(TOTP_PATTERN));
        assert_eq!(
            input_hints(Page::Login, "lookup_secret", "text").autocomplete,
            Some("off")
        );
        assert_eq!(
            input_hints(Page::Registration, "traits.email", "email"),
            InputHints::default()
        );
    }
}
