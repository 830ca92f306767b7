//! The UI messages Kratos clients match on by id (`text/message_*.go`), and node builders.

use serde_json::{Map, Value, json};
use sesame_types::flow::InputAttributes;
use sesame_types::{UiNode, UiNodeAttributes, UiNodeMeta, UiText};

fn text(id: u32, kind: &str, text: String, context: Option<Value>) -> UiText {
    UiText {
        id,
        text,
        kind: kind.to_owned(),
        context: context.and_then(|c| match c {
            Value::Object(m) if !m.is_empty() => Some(m),
            _ => None,
        }),
    }
}

/// 1010003: re-authentication requested.
pub fn login_refresh() -> UiText {
    text(
        1010003,
        "info",
        "Please confirm this action by verifying that it is you.".into(),
        None,
    )
}

/// 1010004: second factor requested.
pub fn login_mfa() -> UiText {
    text(
        1010004,
        "info",
        "Please complete the second authentication challenge.".into(),
        None,
    )
}

/// 4000001: a generic error carrying a reason.
pub fn generic(reason: &str) -> UiText {
    text(4000001, "error", reason.to_owned(), None)
}

/// 4000001 as the settings flow renders it: Kratos's `NewValidationErrorGeneric` also puts the
/// reason in `context.reason` (spec part 2, §1.9).
pub fn generic_with_reason(reason: &str) -> UiText {
    text(
        4000001,
        "error",
        reason.to_owned(),
        Some(json!({ "reason": reason })),
    )
}

/// 4000002: a required property is missing.
pub fn missing(property: &str) -> UiText {
    text(
        4000002,
        "error",
        format!("Property {property} is missing."),
        Some(json!({ "property": property })),
    )
}

/// 4000003: too short.
pub fn min_length(min: u64, actual: u64) -> UiText {
    text(
        4000003,
        "error",
        format!("length must be >= {min}, but got {actual}"),
        Some(json!({ "actual_length": actual, "min_length": min })),
    )
}

/// 4000004: format or pattern mismatch.
pub fn invalid_format(reason: String) -> UiText {
    text(4000004, "error", reason, None)
}

/// 4000006: wrong identifier or password.
pub fn invalid_credentials() -> UiText {
    text(
        4000006,
        "error",
        "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.".into(),
        None,
    )
}

/// 4000007: identifier taken.
pub fn duplicate_credentials() -> UiText {
    text(
        4000007,
        "error",
        "An account with the same identifier (email, phone, username, ...) exists already.".into(),
        None,
    )
}

/// 4000009: the schema yields no identifier.
pub fn no_identifier() -> UiText {
    text(
        4000009,
        "error",
        "Could not find any login identifiers. Did you forget to set them? This could also be caused by a server misconfiguration.".into(),
        None,
    )
}

/// 4000031: password too similar to the identifier.
pub fn password_too_similar() -> UiText {
    text(
        4000031,
        "error",
        "The password can not be used because it is too similar to the identifier.".into(),
        None,
    )
}

/// 4000032: password too short.
pub fn password_too_short(min: usize, actual: usize) -> UiText {
    text(
        4000032,
        "error",
        format!("The password must be at least {min} characters long, but got {actual}."),
        Some(json!({ "actual_length": actual, "min_length": min })),
    )
}

/// 4000033: password too long.
pub fn password_too_long(max: usize, actual: usize) -> UiText {
    text(
        4000033,
        "error",
        format!("The password must be at most {max} characters long, but got {actual}."),
        Some(json!({ "actual_length": actual, "max_length": max })),
    )
}

/// 4010002: no strategy for the submitted method (login).
pub fn login_no_strategy() -> UiText {
    text(
        4010002,
        "error",
        "Could not find a strategy to log you in with. Did you fill out the form correctly?".into(),
        None,
    )
}

/// 4040002: no strategy for the submitted method (registration).
pub fn registration_no_strategy() -> UiText {
    text(
        4040002,
        "error",
        "Could not find a strategy to sign you up with. Did you fill out the form correctly?"
            .into(),
        None,
    )
}

/// 4010001 (login) / 4040001 (registration) / 4050001 (settings): the submitted flow had
/// expired; shown on its replacement.
pub fn flow_expired(
    kind: crate::flow::FlowKind,
    expired_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> UiText {
    let (id, name) = match kind {
        crate::flow::FlowKind::Login => (4010001, "login"),
        crate::flow::FlowKind::Registration => (4040001, "registration"),
        crate::flow::FlowKind::Settings => (4050001, "settings"),
    };
    let minutes = (now - expired_at).num_milliseconds() as f64 / 60_000.0;
    text(
        id,
        "error",
        format!("The {name} flow expired {minutes:.2} minutes ago, please try again."),
        Some(json!({
            "expired_at": sesame_types::time::format(&expired_at),
            "expired_at_unix": expired_at.timestamp(),
        })),
    )
}

/// 4010011: the identity is disabled.
pub fn identity_disabled() -> UiText {
    text(
        4010011,
        "error",
        "This account has been disabled. Please contact support for assistance.".into(),
        None,
    )
}

/// A node label.
pub fn label(id: u32, t: &str, context: Option<Value>) -> UiText {
    text(id, "info", t.to_owned(), context)
}

/// An input node.
pub struct Input<'a> {
    /// Group.
    pub group: &'a str,
    /// Field name.
    pub name: &'a str,
    /// Input type.
    pub input_type: &'a str,
    /// Value (`None` omits it).
    pub value: Option<Value>,
    /// Required.
    pub required: bool,
    /// Autocomplete hint.
    pub autocomplete: Option<&'a str>,
    /// Label.
    pub label: Option<UiText>,
}

impl Input<'_> {
    /// Builds the node.
    pub fn node(self) -> UiNode {
        UiNode {
            kind: "input".into(),
            group: self.group.into(),
            attributes: UiNodeAttributes::Input(InputAttributes {
                name: self.name.into(),
                input_type: self.input_type.into(),
                value: self.value,
                required: self.required,
                autocomplete: self.autocomplete.map(str::to_owned),
                pattern: None,
                disabled: false,
                maxlength: None,
                node_type: "input".into(),
            }),
            messages: Vec::new(),
            meta: UiNodeMeta { label: self.label },
        }
    }
}

/// The `csrf_token` node (value `""` on API flows).
pub fn csrf_node(value: &str) -> UiNode {
    Input {
        group: "default",
        name: "csrf_token",
        input_type: "hidden",
        value: Some(Value::String(value.to_owned())),
        required: true,
        autocomplete: None,
        label: None,
    }
    .node()
}

/// Finds the input node named `name`.
pub fn node_mut<'a>(nodes: &'a mut [UiNode], name: &str) -> Option<&'a mut UiNode> {
    nodes.iter_mut().find(|n| match &n.attributes {
        UiNodeAttributes::Input(a) => a.name == name,
        UiNodeAttributes::Other(_) => false,
    })
}

/// Sets an input node's value.
pub fn set_value(nodes: &mut [UiNode], name: &str, value: Value) {
    if let Some(UiNode {
        attributes: UiNodeAttributes::Input(a),
        ..
    }) = node_mut(nodes, name)
    {
        a.value = Some(value);
    }
}

/// Clears all node and global messages before a new submit is rendered.
pub fn clear_messages(nodes: &mut [UiNode]) {
    for n in nodes {
        n.messages.clear();
    }
}

/// An empty context object.
pub fn no_context() -> Map<String, Value> {
    Map::new()
}

/// The input type and autocomplete hint of a trait's form field, from its JSON type and format.
pub fn trait_input_type(field: &crate::schema::TraitField) -> (&'static str, Option<&'static str>) {
    match (field.json_type.as_str(), field.format.as_deref()) {
        (_, Some("email")) => ("email", Some("email")),
        (_, Some("tel")) => ("tel", Some("tel")),
        (_, Some("date")) => ("date", None),
        (_, Some("date-time")) => ("datetime-local", None),
        (_, Some("uri")) => ("url", Some("url")),
        ("number" | "integer", _) => ("number", None),
        ("boolean", _) => ("checkbox", None),
        _ => ("text", None),
    }
}

/// 1050001: a settings change was saved.
pub fn settings_saved() -> UiText {
    text(
        1050001,
        "success",
        "Your changes have been saved!".into(),
        None,
    )
}

/// 4010004: no settings strategy claims the submit.
pub fn settings_no_strategy() -> UiText {
    text(
        4010004,
        "error",
        "Could not find a strategy to update your settings. Did you fill out the form correctly?"
            .into(),
        None,
    )
}

/// 4000008: a wrong (or replayed) TOTP code.
pub fn totp_invalid() -> UiText {
    text(
        4000008,
        "error",
        "The provided authentication code is invalid, please try again.".into(),
        None,
    )
}

/// 4000011: a TOTP login for an identity without TOTP.
pub fn totp_none() -> UiText {
    text(
        4000011,
        "error",
        "You have no TOTP device set up.".into(),
        None,
    )
}

/// 4000012: a backup code that was used already.
pub fn lookup_used() -> UiText {
    text(
        4000012,
        "error",
        "This backup recovery code has already been used.".into(),
        None,
    )
}

/// 4000014: a backup-code login for an identity without codes.
pub fn lookup_none() -> UiText {
    text(
        4000014,
        "error",
        "You have no backup recovery codes set up.".into(),
        None,
    )
}

/// 4000016: an unknown backup code.
pub fn lookup_invalid() -> UiText {
    text(
        4000016,
        "error",
        "The backup recovery code is not valid.".into(),
        None,
    )
}

/// 4000039: the new password equals the current one.
pub fn password_unchanged() -> UiText {
    text(
        4000039,
        "error",
        "The new password must be different from the old password.".into(),
        None,
    )
}
