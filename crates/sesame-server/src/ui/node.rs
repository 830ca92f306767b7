//! One flow node as a widget, chosen by the node's type and attributes alone (`input` by its
//! HTML type, `text`, `img`, `a`), so that a new method's nodes render without template changes.

use super::hints::{self, Page};
use serde::Serialize;
use serde_json::{Map, Value};
use sesame_types::flow::InputAttributes;
use sesame_types::{UiNode, UiNodeAttributes, UiText};
use std::collections::HashSet;

/// One message, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageView {
    /// Kratos's message id (e.g. 4000006).
    pub id: u32,
    /// English text.
    pub text: String,
    /// `info`, `error` or `success`.
    pub kind: String,
}

impl From<&UiText> for MessageView {
    fn from(t: &UiText) -> Self {
        Self {
            id: t.id,
            text: t.text.clone(),
            kind: t.kind.clone(),
        }
    }
}

/// The messages attached to one field, with the id the field points at (`aria-describedby`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldMessages {
    /// Element id of the message container; `None` when there are no messages.
    pub id: Option<String>,
    /// The messages.
    pub items: Vec<MessageView>,
    /// Whether one of them is an error (`aria-invalid`).
    pub invalid: bool,
}

/// One node, as a widget.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "widget", rename_all = "snake_case")]
pub enum NodeView {
    /// `<input type="hidden">`.
    Hidden {
        /// Field name.
        name: String,
        /// Value.
        value: String,
    },
    /// A labelled `<input>` (text, email, password, tel, number, url, date …).
    Input {
        /// Element id, for `<label for>`.
        id: String,
        /// Field name.
        name: String,
        /// HTML input type.
        input_type: String,
        /// Current value; never set for passwords.
        value: Option<String>,
        /// Label text.
        label: String,
        /// `required`.
        required: bool,
        /// `autocomplete`.
        autocomplete: Option<String>,
        /// `inputmode`: the on-screen keyboard to offer.
        inputmode: Option<&'static str>,
        /// `pattern`.
        pattern: Option<String>,
        /// `maxlength`.
        maxlength: Option<u32>,
        /// Typed exactly as shown (`autocapitalize="none"`, `spellcheck="false"`).
        literal: bool,
        /// `disabled`.
        disabled: bool,
        /// Messages next to the field.
        messages: FieldMessages,
    },
    /// A labelled checkbox.
    Checkbox {
        /// Element id.
        id: String,
        /// Field name.
        name: String,
        /// Whether it is ticked.
        checked: bool,
        /// Label text.
        label: String,
        /// `required`.
        required: bool,
        /// `disabled`.
        disabled: bool,
        /// Messages next to the field.
        messages: FieldMessages,
    },
    /// A `<button>`: `submit` nodes (`method=password` …) and plain `button` nodes.
    Button {
        /// `submit` or `button`.
        button_type: String,
        /// Field name (`method`).
        name: String,
        /// Value sent when pressed.
        value: String,
        /// Button text.
        label: String,
        /// `disabled`.
        disabled: bool,
        /// Messages next to the button.
        messages: FieldMessages,
    },
    /// A `text` node (e.g. a secret to write down, or a list of backup codes).
    Text {
        /// Element id (from the node's `id`: `totp_secret_key` → `field-totp_secret_key`).
        id: String,
        /// What the text is, from the label (when the text itself is not the label).
        label: Option<String>,
        /// The text.
        text: String,
        /// Whether the text is a secret to copy (`context.secret`): shown as code.
        code: bool,
        /// The items of a list (`context.secrets`, e.g. backup codes); empty for plain text.
        items: Vec<TextItem>,
        /// Messages.
        messages: FieldMessages,
    },
    /// An `a` node.
    Link {
        /// Target.
        href: String,
        /// Link text.
        text: String,
    },
    /// An `img` node (e.g. a TOTP QR code as a `data:` URL).
    Image {
        /// Source.
        src: String,
        /// Alternative text, from the label.
        alt: String,
        /// Width in pixels.
        width: Option<u64>,
        /// Height in pixels.
        height: Option<u64>,
    },
}

/// One entry of a text node's list (a backup code, or when one was used).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextItem {
    /// The text.
    pub text: String,
    /// Whether it is a secret to copy (`context.secret`): shown as code.
    pub code: bool,
}

/// Unique element ids derived from field names (`traits.email` → `field-traits-email`).
#[derive(Default)]
pub(super) struct Ids(HashSet<String>);

impl Ids {
    pub(super) fn make(&mut self, name: &str) -> String {
        self.make_with("field", name)
    }

    pub(super) fn make_with(&mut self, prefix: &str, name: &str) -> String {
        let slug: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let base = format!("{prefix}-{slug}");
        let mut id = base.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

fn field_messages(node: &UiNode, id: &str) -> FieldMessages {
    let items: Vec<MessageView> = node.messages.iter().map(MessageView::from).collect();
    FieldMessages {
        id: (!items.is_empty()).then(|| format!("{id}-messages")),
        invalid: items.iter().any(|m| m.kind == "error"),
        items,
    }
}

/// A JSON value as the text of an HTML attribute (`null` is no value).
fn value_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn label_text(node: &UiNode) -> Option<String> {
    node.meta.label.as_ref().map(|l| l.text.clone())
}

/// The widget for one node; `None` for nodes that need JavaScript (`script`, `div`) or lack what
/// they would show.
pub(super) fn node_view(node: &UiNode, page: Page, ids: &mut Ids) -> Option<NodeView> {
    match &node.attributes {
        UiNodeAttributes::Input(a) => Some(input_view(node, a, page, ids)),
        UiNodeAttributes::Other(a) => other_view(node, a, ids),
    }
}

fn input_view(node: &UiNode, a: &InputAttributes, page: Page, ids: &mut Ids) -> NodeView {
    let value = value_text(a.value.as_ref());
    match a.input_type.as_str() {
        "hidden" => NodeView::Hidden {
            name: a.name.clone(),
            value: value.unwrap_or_default(),
        },
        kind @ ("submit" | "button") => {
            let id = ids.make(&a.name);
            let value = value.unwrap_or_default();
            NodeView::Button {
                button_type: kind.to_owned(),
                name: a.name.clone(),
                label: hints::button_label(node)
                    .or_else(|| label_text(node))
                    .unwrap_or_else(|| value.clone()),
                value,
                disabled: a.disabled,
                messages: field_messages(node, &id),
            }
        }
        "checkbox" => {
            let id = ids.make(&a.name);
            NodeView::Checkbox {
                checked: matches!(a.value, Some(Value::Bool(true)))
                    || value.as_deref() == Some("true"),
                name: a.name.clone(),
                label: label_text(node).unwrap_or_else(|| a.name.clone()),
                required: a.required,
                disabled: a.disabled,
                messages: field_messages(node, &id),
                id,
            }
        }
        input_type => {
            let id = ids.make(&a.name);
            let hints = hints::input_hints(page, &a.name, input_type);
            NodeView::Input {
                name: a.name.clone(),
                input_type: input_type.to_owned(),
                // A password is never sent back to the browser, whatever the flow holds.
                value: if input_type == "password" {
                    None
                } else {
                    value
                },
                label: hints
                    .label
                    .or_else(|| label_text(node))
                    .unwrap_or_else(|| a.name.clone()),
                required: a.required,
                // What the node asks for wins; the hints fill in what it leaves out.
                autocomplete: a
                    .autocomplete
                    .clone()
                    .or_else(|| hints.autocomplete.map(str::to_owned)),
                inputmode: hints.inputmode,
                pattern: a
                    .pattern
                    .clone()
                    .or_else(|| hints.pattern.map(str::to_owned)),
                maxlength: a.maxlength,
                literal: hints.literal,
                disabled: a.disabled,
                messages: field_messages(node, &id),
                id,
            }
        }
    }
}

fn ui_text(v: Option<&Value>) -> Option<String> {
    v?.get("text")?.as_str().map(str::to_owned)
}

/// Whether a UI text carries a secret to copy (`context.secret`).
fn is_secret(text: &Value) -> bool {
    text.get("context").and_then(|c| c.get("secret")).is_some()
}

/// The UI texts listed in a text's `context.secrets` (Kratos's backup codes).
fn text_items(text: &Value) -> Vec<TextItem> {
    text.get("context")
        .and_then(|c| c.get("secrets"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| {
            Some(TextItem {
                text: item.get("text")?.as_str()?.to_owned(),
                code: is_secret(item),
            })
        })
        .collect()
}

fn text_view(node: &UiNode, a: &Map<String, Value>, ids: &mut Ids) -> Option<NodeView> {
    let id = ids.make(a.get("id").and_then(Value::as_str).unwrap_or("text"));
    let label = label_text(node);
    let messages = field_messages(node, &id);
    Some(match (a.get("text"), ui_text(a.get("text"))) {
        (Some(t), Some(text)) => NodeView::Text {
            label,
            text,
            code: is_secret(t),
            items: text_items(t),
            messages,
            id,
        },
        _ => NodeView::Text {
            text: label?,
            label: None,
            code: false,
            items: Vec::new(),
            messages,
            id,
        },
    })
}

fn other_view(node: &UiNode, a: &Map<String, Value>, ids: &mut Ids) -> Option<NodeView> {
    let str_attr = |key: &str| a.get(key).and_then(Value::as_str).map(str::to_owned);
    match node.kind.as_str() {
        "text" => text_view(node, a, ids),
        "a" => Some(NodeView::Link {
            href: str_attr("href")?,
            text: ui_text(a.get("title"))
                .or_else(|| label_text(node))
                .unwrap_or_else(|| "Continue".into()),
        }),
        "img" => Some(NodeView::Image {
            src: str_attr("src")?,
            alt: label_text(node).unwrap_or_default(),
            width: a.get("width").and_then(Value::as_u64),
            height: a.get("height").and_then(Value::as_u64),
        }),
        // `script` and `div` nodes need JavaScript; the forms work without it.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The widgets of these nodes, with element ids unique among them.
    fn views(nodes: Value) -> Vec<NodeView> {
        let nodes: Vec<UiNode> = serde_json::from_value(nodes).unwrap();
        let mut ids = Ids::default();
        nodes
            .iter()
            .filter_map(|n| node_view(n, Page::Login, &mut ids))
            .collect()
    }

    #[test]
    fn input_nodes_become_widgets_by_type() {
        let nodes = views(json!([
            {"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"tok","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}},
            {"type":"input","group":"default","attributes":{"name":"identifier","type":"text","value":"a@example.com","required":true,"disabled":false,"node_type":"input"},"messages":[{"id":4000002,"text":"Property identifier is missing.","type":"error"}],"meta":{"label":{"id":1070002,"text":"E-Mail","type":"info"}}},
            {"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010022,"text":"Sign in with password","type":"info"}}}
        ]));
        assert_eq!(
            nodes[0],
            NodeView::Hidden {
                name: "csrf_token".into(),
                value: "tok".into()
            }
        );
        let NodeView::Input {
            id,
            label,
            value,
            messages,
            ..
        } = &nodes[1]
        else {
            panic!("{:?}", nodes[1]);
        };
        assert_eq!(id, "field-identifier");
        assert_eq!(label, "E-Mail");
        assert_eq!(value.as_deref(), Some("a@example.com"));
        assert!(messages.invalid);
        assert_eq!(messages.id.as_deref(), Some("field-identifier-messages"));
        let NodeView::Button { label, value, .. } = &nodes[2] else {
            panic!("{:?}", nodes[2]);
        };
        assert_eq!(
            (label.as_str(), value.as_str()),
            ("Sign in with password", "password")
        );
    }

    #[test]
    fn passwords_are_never_echoed() {
        let nodes = views(json!([
            {"type":"input","group":"password","attributes":{"name":"password","type":"password","value":"secret","required":true,"autocomplete":"current-password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070001,"text":"Password","type":"info"}}}
        ]));
        let NodeView::Input {
            value,
            autocomplete,
            messages,
            ..
        } = &nodes[0]
        else {
            panic!("{:?}", nodes[0]);
        };
        assert_eq!(value, &None);
        assert_eq!(autocomplete.as_deref(), Some("current-password"));
        // No messages: the field points at nothing.
        assert_eq!(messages.id, None);
        assert!(!messages.invalid);
    }

    #[test]
    fn element_ids_are_unique_and_plain() {
        let nodes = views(json!([
            {"type":"input","group":"default","attributes":{"name":"traits.email","type":"email","value":"","disabled":false,"node_type":"input"},"messages":[],"meta":{}},
            {"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[{"id":1,"text":"x","type":"info"}],"meta":{}},
            {"type":"input","group":"totp","attributes":{"name":"method","type":"submit","value":"totp","disabled":false,"node_type":"input"},"messages":[{"id":1,"text":"y","type":"info"}],"meta":{}},
            {"type":"input","group":"profile","attributes":{"name":"traits.newsletter","type":"checkbox","value":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070002,"text":"Newsletter","type":"info"}}}
        ]));
        let NodeView::Input { id, label, .. } = &nodes[0] else {
            panic!();
        };
        assert_eq!(
            (id.as_str(), label.as_str()),
            ("field-traits-email", "traits.email")
        );
        let ids: Vec<_> = nodes[1..3]
            .iter()
            .map(|n| match n {
                NodeView::Button { messages, .. } => messages.id.clone().unwrap(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(ids, ["field-method-messages", "field-method-2-messages"]);
        assert!(matches!(nodes[3], NodeView::Checkbox { checked: true, .. }));
    }

    #[test]
    fn other_node_kinds_are_shown_or_skipped() {
        let nodes = views(json!([
            {"type":"text","group":"lookup_secret","attributes":{"id":"codes","text":{"id":1050015,"text":"abc def","type":"info"},"node_type":"text"},"messages":[],"meta":{}},
            {"type":"img","group":"totp","attributes":{"id":"qr","src":"data:image/png;base64,AA==","width":256,"height":256,"node_type":"img"},"messages":[],"meta":{"label":{"id":1050005,"text":"Authenticator app QR code","type":"info"}}},
            {"type":"a","group":"default","attributes":{"id":"x","href":"https://example.com/","title":{"id":1,"text":"Help","type":"info"},"node_type":"a"},"messages":[],"meta":{}},
            {"type":"script","group":"webauthn","attributes":{"src":"/x.js","node_type":"script"},"messages":[],"meta":{}}
        ]));
        assert_eq!(nodes.len(), 3);
        assert!(
            matches!(&nodes[0], NodeView::Text { text, label: None, code: false, items, id, .. } if text == "abc def" && items.is_empty() && id == "field-codes")
        );
        assert!(
            matches!(&nodes[1], NodeView::Image { alt, width: Some(256), .. } if alt == "Authenticator app QR code")
        );
        assert!(matches!(&nodes[2], NodeView::Link { text, .. } if text == "Help"));
    }

    #[test]
    fn secrets_are_code_and_backup_codes_a_list() {
        let nodes = views(json!([
            {"type":"text","group":"totp","attributes":{"text":{"id":1050006,"text":"JBSWY3DP","type":"info","context":{"secret":"JBSWY3DP"}},"id":"totp_secret_key","node_type":"text"},"messages":[],"meta":{"label":{"id":1050017,"text":"This is your authenticator app secret.","type":"info"}}},
            {"type":"text","group":"lookup_secret","attributes":{"text":{"id":1050015,"text":"abcd1234, used","type":"info","context":{"secrets":[
                {"id":1050009,"text":"abcd1234","type":"info","context":{"secret":"abcd1234"}},
                {"id":1050014,"text":"Secret was used at 2021-08-17 11:32:39 +0000 UTC","type":"info","context":{"used_at":"2021-08-17T11:32:39Z"}}
            ]}},"id":"lookup_secret_codes","node_type":"text"},"messages":[],"meta":{"label":{"id":1050010,"text":"These are your back up recovery codes.","type":"info"}}}
        ]));
        let NodeView::Text {
            id,
            label,
            text,
            code,
            items,
            ..
        } = &nodes[0]
        else {
            panic!("{:?}", nodes[0]);
        };
        assert_eq!(id, "field-totp_secret_key");
        assert_eq!(
            label.as_deref(),
            Some("This is your authenticator app secret.")
        );
        assert_eq!((text.as_str(), code), ("JBSWY3DP", &true));
        assert!(items.is_empty());
        let NodeView::Text { id, items, .. } = &nodes[1] else {
            panic!("{:?}", nodes[1]);
        };
        assert_eq!(id, "field-lookup_secret_codes");
        assert_eq!(
            items,
            &[
                TextItem {
                    text: "abcd1234".into(),
                    code: true
                },
                TextItem {
                    text: "Secret was used at 2021-08-17 11:32:39 +0000 UTC".into(),
                    code: false
                }
            ]
        );
    }
}
