//! View models of the built-in pages: sign-in, sign-up and account settings (a flow's form), the
//! welcome page (the current session) and the error page. Built from wire types; no I/O.

use super::form::{FormView, NodeView, Page};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sesame_core::schema::IdentitySchema;
use sesame_types::{Aal, LoginFlow, RegistrationFlow, Session, SettingsFlow};
use std::collections::HashMap;

/// Where the built-in pages link to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Links {
    /// Starts a browser login flow.
    pub login: String,
    /// Starts a browser registration flow.
    pub registration: String,
    /// The welcome page.
    pub welcome: String,
    /// Starts a browser settings flow.
    pub settings: String,
}

impl Links {
    /// The links under `public_base` (ending in `/`), carrying `return_to` when the flow has one.
    pub fn new(public_base: &str, return_to: Option<&str>) -> Self {
        let with = |path: &str| match return_to {
            Some(r) => format!(
                "{public_base}{path}?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", r)
                    .finish()
            ),
            None => format!("{public_base}{path}"),
        };
        Self {
            login: with("self-service/login/browser"),
            registration: with("self-service/registration/browser"),
            welcome: format!("{public_base}ui/welcome"),
            settings: format!("{public_base}self-service/settings/browser"),
        }
    }
}

/// "No account? Sign up" under a form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwitchLink {
    /// The question (may be empty).
    pub prompt: &'static str,
    /// The link text.
    pub text: &'static str,
    /// The target.
    pub href: String,
}

/// A sign-in, sign-up or settings page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowPage {
    /// `<title>` and `<h1>`.
    pub title: &'static str,
    /// A line under the heading.
    pub lead: String,
    /// The form.
    pub form: FormView,
    /// Whether each method's form gets a heading (always on the settings page, and wherever
    /// there is more than one method to choose from).
    pub titled: bool,
    /// The link to the other page (or back, or out), if it makes sense here.
    pub switch: Option<SwitchLink>,
}

impl FlowPage {
    /// A login flow: sign in, confirm (refresh) or second factor (AAL2). `logout_url` is the
    /// current session's sign-out link, offered where a session exists but cannot continue.
    pub fn login(flow: &LoginFlow, public_base: &str, logout_url: Option<String>) -> Self {
        let links = Links::new(public_base, flow.return_to.as_deref());
        let sign_out = |prompt| {
            logout_url.map(|href| SwitchLink {
                prompt,
                text: "Sign out",
                href,
            })
        };
        let (title, lead, switch) = if flow.refresh {
            (
                "Confirm it's you",
                "Sign in again to continue.",
                sign_out("Not you?"),
            )
        } else if flow.requested_aal >= Aal::Aal2 {
            (
                "Second factor",
                "Complete the second sign-in step to continue.",
                sign_out("Cannot use a second factor now?"),
            )
        } else {
            (
                "Sign in",
                "Welcome back.",
                Some(SwitchLink {
                    prompt: "No account?",
                    text: "Sign up",
                    href: links.registration,
                }),
            )
        };
        let form = FormView::new(&flow.ui, Page::Login);
        Self {
            title,
            lead: lead.to_owned(),
            titled: form.sections.len() > 1,
            form,
            switch,
        }
    }

    /// A registration flow.
    pub fn registration(flow: &RegistrationFlow, public_base: &str) -> Self {
        let links = Links::new(public_base, flow.return_to.as_deref());
        let form = FormView::new(&flow.ui, Page::Registration);
        Self {
            title: "Create an account",
            lead: sign_up_lead(&form),
            titled: form.sections.len() > 1,
            form,
            switch: Some(SwitchLink {
                prompt: "Have an account?",
                text: "Sign in",
                href: links.login,
            }),
        }
    }

    /// A settings flow: one form per method (profile, password, authenticator app, backup
    /// codes …), each under its heading. `returns_here(method)` says whether saving that method
    /// leads back to this page (rather than to a configured return URL): those forms bring the
    /// browser back to their own section.
    pub fn settings(
        flow: &SettingsFlow,
        public_base: &str,
        returns_here: impl Fn(&str) -> bool,
    ) -> Self {
        let identity = &flow.identity;
        let who = identity
            .traits
            .get("email")
            .and_then(Value::as_str)
            .map_or_else(|| identity.id.to_string(), str::to_owned);
        let mut form = FormView::new(&flow.ui, Page::Settings);
        form.keep_place(returns_here);
        Self {
            title: "Account settings",
            lead: format!("Signed in as {who}."),
            form,
            titled: true,
            switch: Some(SwitchLink {
                prompt: "",
                text: "Back to your account",
                href: Links::new(public_base, None).welcome,
            }),
        }
    }
}

/// The sign-up page's lead: what the form shown asks for, read from its fields (the identity
/// schema decides them), e.g. "It takes an email address and a password; the rest is optional."
fn sign_up_lead(form: &FormView) -> String {
    const GENERIC: &str = "Fill in the form to create your account.";
    // With several ways to sign up, no one list of fields describes them all.
    if form.sections.len() != 1 {
        return GENERIC.to_owned();
    }
    let mut required: Vec<String> = Vec::new();
    let mut optional = false;
    for node in form.nodes() {
        match node {
            NodeView::Input {
                required: true,
                input_type,
                label,
                ..
            } => {
                let what = match input_type.as_str() {
                    "email" => "an email address".to_owned(),
                    "password" => "a password".to_owned(),
                    "tel" => "a phone number".to_owned(),
                    _ => format!("your {}", in_sentence(label)),
                };
                if !required.contains(&what) {
                    required.push(what);
                }
            }
            NodeView::Input { .. }
            | NodeView::Checkbox {
                required: false, ..
            } => optional = true,
            _ => {}
        }
    }
    let Some((last, rest)) = required.split_last() else {
        return GENERIC.to_owned();
    };
    let list = if rest.is_empty() {
        last.clone()
    } else {
        format!("{} and {last}", rest.join(", "))
    };
    if optional {
        format!("It takes {list}; the rest is optional.")
    } else {
        format!("It takes {list}.")
    }
}

/// A field label inside a sentence: capitalised words lose their capital (`First Name` → `first
/// name`); words written otherwise (`ID`, `E-Mail`) are kept as they are.
fn in_sentence(label: &str) -> String {
    label
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) if first.is_uppercase() && chars.clone().all(|c| !c.is_uppercase()) => {
                    first.to_lowercase().chain(chars).collect()
                }
                _ => word.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A point in time, machine- and human-readable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeView {
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// `2026-11-26 02:31 UTC`.
    pub text: String,
}

impl From<DateTime<Utc>> for TimeView {
    fn from(t: DateTime<Utc>) -> Self {
        Self {
            iso: sesame_types::time::format(&t),
            text: t.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

/// One identity trait, flattened (`name.first`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraitView {
    /// Dotted path.
    pub name: String,
    /// The schema's `title` for it, else the path.
    pub label: String,
    /// Value as text.
    pub value: String,
}

/// Trait titles of an identity schema by dotted path (`name.first` → `First Name`).
pub fn trait_titles(schema: Option<&IdentitySchema>) -> HashMap<String, String> {
    schema
        .into_iter()
        .flat_map(|s| &s.fields)
        .filter_map(|f| Some((f.path.join("."), f.title.clone()?)))
        .collect()
}

/// The signed-in part of the welcome page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionView {
    /// `traits.email`, when the schema has one.
    pub email: Option<String>,
    /// The identity id.
    pub identity_id: String,
    /// Every trait.
    pub traits: Vec<TraitView>,
    /// When the last factor was completed.
    pub authenticated_at: TimeView,
    /// When the session ends.
    pub expires_at: TimeView,
    /// `aal1`, `aal2` …
    pub aal: &'static str,
    /// What that level means.
    pub aal_text: &'static str,
    /// Completed factors (`password`, `totp` …).
    pub methods: Vec<String>,
    /// `<public>/self-service/logout?token=…`.
    pub logout_url: String,
}

impl SessionView {
    /// From whoami's session (identity expanded), the session's logout URL and the trait titles
    /// of the identity's schema.
    pub fn new(session: &Session, logout_url: String, titles: &HashMap<String, String>) -> Self {
        let mut traits = session
            .identity
            .as_ref()
            .map(|i| flatten(&i.traits))
            .unwrap_or_default();
        for t in &mut traits {
            if let Some(title) = titles.get(&t.name) {
                t.label.clone_from(title);
            }
        }
        let aal = session.authenticator_assurance_level;
        Self {
            email: session
                .identity
                .as_ref()
                .and_then(|i| i.traits.get("email"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            identity_id: session
                .identity
                .as_ref()
                .map(|i| i.id.to_string())
                .unwrap_or_default(),
            traits,
            authenticated_at: session.authenticated_at.into(),
            expires_at: session.expires_at.into(),
            aal: aal.as_str(),
            aal_text: match aal {
                Aal::Aal0 => "no factor",
                Aal::Aal1 => "one factor",
                Aal::Aal2 | Aal::Aal3 => "two factors",
            },
            methods: session
                .authentication_methods
                .iter()
                .flatten()
                .map(|m| m.method.clone())
                .collect(),
            logout_url,
        }
    }
}

/// Traits as dotted paths and text, in the schema's (serialised) order.
fn flatten(traits: &Value) -> Vec<TraitView> {
    // Recursion is bounded by what can be stored: traits nest at most
    // `sesame_core::untrusted::MAX_DEPTH` levels, and serde_json reads no deeper than 128.
    fn walk(prefix: &str, v: &Value, out: &mut Vec<TraitView>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&name, v, out);
                }
            }
            Value::Null => {}
            Value::String(s) => out.push(TraitView {
                name: prefix.to_owned(),
                label: prefix.to_owned(),
                value: s.clone(),
            }),
            Value::Array(items) => out.push(TraitView {
                name: prefix.to_owned(),
                label: prefix.to_owned(),
                value: items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            other => out.push(TraitView {
                name: prefix.to_owned(),
                label: prefix.to_owned(),
                value: other.to_string(),
            }),
        }
    }
    let mut out = Vec::new();
    walk("", traits, &mut out);
    out
}

/// The welcome page: the session, or links to sign in and up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WelcomePage {
    /// The current session, if any.
    pub session: Option<SessionView>,
    /// Sign-in and sign-up links.
    pub links: Links,
}

/// The error page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorPage {
    /// `<h1>`.
    pub title: &'static str,
    /// What happened, in plain words.
    pub description: &'static str,
    /// The error id or code from the URL, shown as text.
    pub code: Option<String>,
    /// A second paragraph, for whoever runs the server.
    pub hint: Option<&'static str>,
    /// Where to go next.
    pub links: Links,
}

/// At most this many characters of the `error`/`id` query value are shown.
const MAX_CODE_CHARS: usize = 200;

impl ErrorPage {
    /// A page for the `error` or `id` query value (an error id such as
    /// `security_csrf_violation`, or any other text).
    pub fn new(code: Option<&str>, public_base: &str) -> Self {
        let code = code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| c.chars().take(MAX_CODE_CHARS).collect::<String>());
        let (title, description) = match code.as_deref() {
            Some("security_csrf_violation") => (
                "Request blocked",
                "The request was rejected to protect your account from cross-site request forgery. Make sure cookies are enabled, then start again.",
            ),
            Some("self_service_flow_expired") => (
                "This page expired",
                "The form was open for too long. Please start again.",
            ),
            Some("session_inactive") => (
                "You are signed out",
                "There is no active session. Please sign in.",
            ),
            Some("session_already_available") => (
                "You are already signed in",
                "There is an active session in this browser.",
            ),
            Some("security_too_many_attempts") => (
                "Too many attempts",
                "There were too many failed attempts to sign in. Please wait a moment, then try again.",
            ),
            Some("identity_locked") => (
                "Account locked",
                "This account is locked after too many failed attempts to sign in. Recover your account, or ask an administrator to unlock it.",
            ),
            Some("self_service_flow_return_to_forbidden") => (
                "Redirect not allowed",
                "The address to return to after signing in is not on the list of allowed addresses.",
            ),
            _ => (
                "Something went wrong",
                "We could not complete your request. Please try again.",
            ),
        };
        Self {
            title,
            description,
            code,
            hint: None,
            links: Links::new(public_base, None),
        }
    }

    /// The page for a browser that does not send back the anti-CSRF cookie Sesame handed it, so
    /// that no form could be sent; `plain_http` when the cookie is `Secure` and the page was
    /// reached over plain HTTP, where browsers drop such cookies.
    pub fn cookies_needed(public_base: &str, plain_http: bool) -> Self {
        Self {
            title: "Cookies are needed",
            description: "This browser did not send back the cookie that protects the sign-in \
                          and sign-up forms against cross-site request forgery. Allow cookies \
                          for this site, then start again.",
            code: None,
            hint: plain_http.then_some(
                "This site's cookies are marked Secure, and browsers keep them only over HTTPS, \
                 but this page was reached over plain HTTP: the server's public base URL \
                 (serve.public.base_url) must be an https:// address, or the server must run with \
                 --dev for a test on this machine.",
            ),
            links: Links::new(public_base, None),
        }
    }

    /// The page for a request that failed because the database cannot be reached right now.
    pub fn unavailable(public_base: &str) -> Self {
        Self {
            title: "Temporarily unavailable",
            description: "We cannot reach our records right now. Please try again in a moment.",
            code: None,
            hint: None,
            links: Links::new(public_base, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "http://127.0.0.1:4433/";

    #[test]
    fn links_carry_return_to_encoded() {
        let l = Links::new(BASE, Some("https://app.example.com/a?b=c&d"));
        assert_eq!(
            l.login,
            "http://127.0.0.1:4433/self-service/login/browser?return_to=https%3A%2F%2Fapp.example.com%2Fa%3Fb%3Dc%26d"
        );
        assert_eq!(
            Links::new(BASE, None).registration,
            "http://127.0.0.1:4433/self-service/registration/browser"
        );
    }

    #[test]
    fn traits_are_flattened_to_dotted_paths() {
        let t = flatten(
            &json!({"email": "a@example.com", "name": {"first": "Ada", "last": null}, "tags": ["x", 1], "age": 36}),
        );
        let pairs: Vec<(&str, &str)> = t
            .iter()
            .map(|t| (t.name.as_str(), t.value.as_str()))
            .collect();
        assert!(pairs.contains(&("email", "a@example.com")));
        assert!(pairs.contains(&("name.first", "Ada")));
        assert!(pairs.contains(&("tags", "x, 1")));
        assert!(pairs.contains(&("age", "36")));
        assert!(!pairs.iter().any(|(n, _)| *n == "name.last"));
    }

    #[test]
    fn the_session_view_labels_traits_with_their_titles() {
        let session: Session = serde_json::from_value(json!({
            "id": "5b1b8a0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
            "active": true,
            "expires_at": "2026-01-02T00:00:00Z",
            "authenticated_at": "2026-01-01T00:00:00Z",
            "authenticator_assurance_level": "aal1",
            "authentication_methods": [{"method": "password", "aal": "aal1", "completed_at": "2026-01-01T00:00:00Z"}],
            "issued_at": "2026-01-01T00:00:00Z",
            "identity": {
                "id": "0d5a3f0e-6cbb-4a52-8c0e-4a4c1bd1b6c5",
                "schema_id": "default",
                "schema_url": "",
                "state": "active",
                "traits": {"email": "a@example.com", "name": {"first": "Ada"}},
                "metadata_public": null,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "organization_id": null
            },
            "devices": []
        }))
        .unwrap();
        let titles = HashMap::from([("email".to_owned(), "E-Mail".to_owned())]);
        let view = SessionView::new(&session, "logout".into(), &titles);
        assert_eq!(view.email.as_deref(), Some("a@example.com"));
        assert_eq!(view.identity_id, "0d5a3f0e-6cbb-4a52-8c0e-4a4c1bd1b6c5");
        let labels: Vec<(&str, &str)> = view
            .traits
            .iter()
            .map(|t| (t.label.as_str(), t.value.as_str()))
            .collect();
        assert_eq!(labels, [("E-Mail", "a@example.com"), ("name.first", "Ada")]);
        assert_eq!((view.aal, view.aal_text), ("aal1", "one factor"));
        assert_eq!(view.methods, ["password"]);
    }

    #[test]
    fn error_codes_get_plain_words_and_are_truncated() {
        let p = ErrorPage::new(Some("security_csrf_violation"), BASE);
        assert_eq!(p.title, "Request blocked");
        let long = "x".repeat(500);
        let p = ErrorPage::new(Some(&long), BASE);
        assert_eq!(p.title, "Something went wrong");
        assert_eq!(p.code.unwrap().len(), MAX_CODE_CHARS);
        assert_eq!(ErrorPage::new(Some("  "), BASE).code, None);
    }

    fn registration_form(fields: serde_json::Value) -> FormView {
        let mut nodes = vec![
            json!({"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"t","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}}),
        ];
        for (name, kind, required, title) in
            serde_json::from_value::<Vec<(String, String, bool, String)>>(fields).unwrap()
        {
            nodes.push(json!({"type":"input","group":"password","attributes":{"name":name,"type":kind,"required":required,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070002,"text":title,"type":"info"}}}));
        }
        nodes.push(json!({"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1040001,"text":"Sign up","type":"info"}}}));
        let ui = serde_json::from_value(
            json!({"action": BASE, "method": "POST", "nodes": nodes, "messages": []}),
        )
        .unwrap();
        FormView::new(&ui, Page::Registration)
    }

    #[test]
    fn the_sign_up_lead_describes_the_fields_shown() {
        // The shipped schema (and Kratos's quickstart): an email, optional names, a password.
        let form = registration_form(json!([
            ["traits.email", "email", true, "E-Mail"],
            ["traits.name.first", "text", false, "First Name"],
            ["traits.name.last", "text", false, "Last Name"],
            ["password", "password", true, "Password"]
        ]));
        assert_eq!(
            sign_up_lead(&form),
            "It takes an email address and a password; the rest is optional."
        );
        let form = registration_form(json!([
            ["traits.email", "email", true, "E-Mail"],
            ["password", "password", true, "Password"]
        ]));
        assert_eq!(
            sign_up_lead(&form),
            "It takes an email address and a password."
        );
        let form = registration_form(json!([
            ["traits.username", "text", true, "Username"],
            ["traits.company_id", "text", true, "Company ID"],
            ["traits.phone", "tel", true, "Phone"],
            ["password", "password", true, "Password"]
        ]));
        assert_eq!(
            sign_up_lead(&form),
            "It takes your username, your company ID, a phone number and a password."
        );
        assert_eq!(
            sign_up_lead(&registration_form(json!([]))),
            "Fill in the form to create your account."
        );
    }

    #[test]
    fn times_read_well() {
        let t: TimeView = DateTime::parse_from_rfc3339("2026-11-26T02:31:49.5Z")
            .unwrap()
            .with_timezone(&Utc)
            .into();
        assert_eq!(t.text, "2026-11-26 02:31 UTC");
        assert!(t.iso.starts_with("2026-11-26T02:31:49"));
    }
}
