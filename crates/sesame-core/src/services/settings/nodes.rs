//! The settings flow's form (spec §1.4, §1.5, §2): the profile, password, backup-code and TOTP
//! groups, in Kratos's order, built from the identity as it is now.

use crate::identity::{Credential, CredentialType, Identity};
use crate::lookup::{self, RecoveryCode};
use crate::messages::{self, Input};
use crate::schema::IdentitySchema;
use crate::services::CoreSettings;
use crate::totp;
use serde_json::{Map, Value, json};
use sesame_types::{UiNode, UiNodeAttributes, UiNodeMeta, UiText};

/// What the form is built from.
pub(super) struct FormInput<'a> {
    pub settings: &'a CoreSettings,
    pub schema: &'a IdentitySchema,
    pub identity: &'a Identity,
    pub credentials: &'a [Credential],
    /// The TOTP URL offered for linking (identities without TOTP), kept in the flow's context.
    pub pending_totp_url: Option<&'a str>,
}

/// Every node of a fresh settings form.
pub(super) fn form(input: &FormInput<'_>) -> Result<Vec<UiNode>, String> {
    let s = input.settings;
    let mut nodes = vec![messages::csrf_node("")];
    if s.profile_enabled {
        nodes.extend(profile(input.schema, &input.identity.traits));
    }
    if s.password_enabled {
        nodes.extend(password());
    }
    if s.lookup_secret_enabled {
        let has_codes = input
            .credentials
            .iter()
            .any(|c| c.kind == CredentialType::LookupSecret);
        if has_codes {
            nodes.push(lookup_button(
                "lookup_secret_reveal",
                1050007,
                "Reveal backup recovery codes",
            ));
            nodes.push(lookup_button(
                "lookup_secret_disable",
                1050016,
                "Disable this method",
            ));
        } else {
            nodes.push(lookup_button(
                "lookup_secret_regenerate",
                1050008,
                "Generate new backup recovery codes",
            ));
        }
    }
    if s.totp_enabled {
        let has_totp = input
            .credentials
            .iter()
            .any(|c| c.kind == CredentialType::Totp);
        if has_totp {
            nodes.push(totp_unlink());
        } else if let Some(url) = input.pending_totp_url {
            nodes.extend(totp_link(url)?);
        }
    }
    Ok(nodes)
}

fn profile(schema: &IdentitySchema, traits: &Value) -> Vec<UiNode> {
    let mut nodes = Vec::new();
    for field in &schema.fields {
        let (input_type, autocomplete) = messages::trait_input_type(field);
        let name = field.field_name();
        let label = field
            .title
            .as_ref()
            .map(|t| messages::label(1070002, t, Some(json!({ "name": name, "title": t }))));
        let value = field.path.iter().try_fold(traits, |v, k| v.get(k)).cloned();
        nodes.push(
            Input {
                group: "profile",
                name: &name,
                input_type,
                value,
                required: field.required,
                autocomplete,
                label,
            }
            .node(),
        );
    }
    nodes.push(submit("profile", "profile"));
    nodes
}

fn password() -> Vec<UiNode> {
    vec![
        Input {
            group: "password",
            name: "password",
            input_type: "password",
            value: None,
            required: true,
            autocomplete: Some("new-password"),
            label: Some(messages::label(1070001, "Password", None)),
        }
        .node(),
        submit("password", "password"),
    ]
}

fn submit(group: &'static str, method: &str) -> UiNode {
    Input {
        group,
        name: "method",
        input_type: "submit",
        value: Some(Value::String(method.to_owned())),
        required: false,
        autocomplete: None,
        label: Some(messages::label(1070003, "Save", None)),
    }
    .node()
}

/// A backup-code button (`type: submit`, `value: "true"`, not required).
pub(super) fn lookup_button(name: &str, id: u32, text: &str) -> UiNode {
    Input {
        group: "lookup_secret",
        name,
        input_type: "submit",
        value: Some(Value::String("true".into())),
        required: false,
        autocomplete: None,
        label: Some(messages::label(id, text, None)),
    }
    .node()
}

/// The codes just generated (or revealed), as the text node Kratos shows.
pub(super) fn codes(codes: &[RecoveryCode]) -> UiNode {
    lookup::codes_node(codes)
}

fn totp_unlink() -> UiNode {
    Input {
        group: "totp",
        name: "totp_unlink",
        input_type: "submit",
        value: Some(Value::String("true".into())),
        required: true,
        autocomplete: None,
        label: Some(messages::label(
            1050004,
            "Unlink TOTP Authenticator App",
            None,
        )),
    }
    .node()
}

fn other(group: &str, kind: &str, attributes: Value, label: UiText) -> UiNode {
    let attributes = match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    UiNode {
        kind: kind.to_owned(),
        group: group.to_owned(),
        attributes: UiNodeAttributes::Other(attributes),
        messages: Vec::new(),
        meta: UiNodeMeta { label: Some(label) },
    }
}

fn totp_link(url: &str) -> Result<Vec<UiNode>, String> {
    let secret = totp::TotpSecret::from_url(url)
        .ok_or_else(|| "the pending TOTP URL has no secret".to_owned())?;
    let qr = totp::qr_data_uri(url).map_err(|e| e.to_string())?;
    let secret = secret.base32().to_owned();
    Ok(vec![
        other(
            "totp",
            "img",
            json!({"src": qr, "id": "totp_qr", "width": 256, "height": 256, "node_type": "img"}),
            messages::label(1050005, "Authenticator app QR code", None),
        ),
        other(
            "totp",
            "text",
            json!({
                "text": {"id": 1050006, "text": secret, "type": "info", "context": {"secret": secret}},
                "id": "totp_secret_key",
                "node_type": "text",
            }),
            messages::label(
                1050017,
                "This is your authenticator app secret. Use it if you can not scan the QR code.",
                None,
            ),
        ),
        Input {
            group: "totp",
            name: "totp_code",
            input_type: "text",
            value: None,
            required: true,
            autocomplete: None,
            label: Some(messages::label(1070006, "Verify code", None)),
        }
        .node(),
        submit("totp", "totp"),
    ])
}

/// Whether a node belongs to the backup-code group.
pub(super) fn is_lookup(node: &UiNode) -> bool {
    node.group == "lookup_secret"
}
