//! The view model of a flow's form, built generically from `ui.nodes` and `ui.messages` so that
//! new methods and fields show up without template changes. Each method group (`password`,
//! `totp` …) becomes its own `<form>` carrying the `default` group's nodes (the anti-CSRF token),
//! so that one method's required fields never block another's button, and Enter submits the
//! method being typed into.

pub use super::hints::Page;
pub use super::node::{FieldMessages, MessageView, NodeView, TextItem};
use super::node::{Ids, node_view};
use serde::Serialize;
use sesame_types::{UiContainer, UiNode};

/// One method group's `<form>`: the `default` group's nodes, then the group's own, in node order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionView {
    /// The node group (`password`, `totp` …; `default` when the flow has no other).
    pub group: String,
    /// A heading for it.
    pub title: String,
    /// Element id of the heading.
    pub heading_id: String,
    /// Whether the form posts with the heading as its fragment (`#group-totp`): the browser
    /// comes back to this section, not to the top of the page.
    pub anchored: bool,
    /// The widgets.
    pub nodes: Vec<NodeView>,
}

/// A flow's form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormView {
    /// `ui.action`.
    pub action: String,
    /// `post` (HTML forms only know `get` and `post`).
    pub method: String,
    /// `ui.messages`: shown at the top.
    pub messages: Vec<MessageView>,
    /// Whether a global message is an error (`role="alert"`, else `role="status"`).
    pub has_error: bool,
    /// How the global messages look: `error` if one is an error, else `success` if one is a
    /// success, else `info`.
    pub tone: &'static str,
    /// One form per method group, in the order the groups first appear (on the settings page,
    /// in [`SETTINGS_ORDER`]).
    pub sections: Vec<SectionView>,
}

/// The settings page's sections, whatever state the flow is in: Kratos appends the groups it
/// changes (backup codes just generated) after the others, which would move them down the page.
/// Other groups follow, in the order they first appear.
pub const SETTINGS_ORDER: [&str; 4] = ["profile", "password", "totp", "lookup_secret"];

impl FormView {
    /// Builds the form from a flow's `ui` container, for `page`. Nodes the page cannot show
    /// without JavaScript (`script`, `div`) are skipped, and so is a group left with nothing to
    /// show.
    pub fn new(ui: &UiContainer, page: Page) -> Self {
        let messages: Vec<MessageView> = ui.messages.iter().map(MessageView::from).collect();
        let has_error = messages.iter().any(|m| m.kind == "error");
        let tone = if has_error {
            "error"
        } else if messages.iter().any(|m| m.kind == "success") {
            "success"
        } else {
            "info"
        };
        Self {
            action: ui.action.clone(),
            method: if ui.method.eq_ignore_ascii_case("get") {
                "get".into()
            } else {
                "post".into()
            },
            has_error,
            tone,
            messages,
            sections: sections(&ui.nodes, page),
        }
    }

    /// Anchors each section whose submit leads back to this page (`returns_here(group)`), so that
    /// the browser lands on the section it used rather than on the top of the page.
    pub fn keep_place(&mut self, returns_here: impl Fn(&str) -> bool) {
        for s in &mut self.sections {
            s.anchored = returns_here(&s.group);
        }
    }

    /// Every widget of every section, in page order.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeView> {
        self.sections.iter().flat_map(|s| s.nodes.iter())
    }
}

/// The group every form carries.
const DEFAULT_GROUP: &str = "default";

fn sections(nodes: &[UiNode], page: Page) -> Vec<SectionView> {
    let mut ids = Ids::default();
    let shared: Vec<&UiNode> = nodes.iter().filter(|n| n.group == DEFAULT_GROUP).collect();
    let mut groups: Vec<&str> = Vec::new();
    for n in nodes {
        if n.group != DEFAULT_GROUP && !groups.contains(&n.group.as_str()) {
            groups.push(&n.group);
        }
    }
    if groups.is_empty() {
        let views: Vec<NodeView> = shared
            .iter()
            .filter_map(|n| node_view(n, page, &mut ids))
            .collect();
        if views.is_empty() {
            return Vec::new();
        }
        return vec![section(DEFAULT_GROUP, views, &mut ids)];
    }
    if page == Page::Settings {
        // A stable sort: groups not in the list keep their order, after those in it.
        groups.sort_by_key(|g| {
            SETTINGS_ORDER
                .iter()
                .position(|known| known == g)
                .unwrap_or(SETTINGS_ORDER.len())
        });
    }
    groups
        .into_iter()
        .filter_map(|group| {
            let own: Vec<NodeView> = nodes
                .iter()
                .filter(|n| n.group == group)
                .filter_map(|n| node_view(n, page, &mut ids))
                .collect();
            if own.is_empty() {
                return None;
            }
            let mut views: Vec<NodeView> = shared
                .iter()
                .filter_map(|n| node_view(n, page, &mut ids))
                .collect();
            views.extend(own);
            Some(section(group, views, &mut ids))
        })
        .collect()
}

fn section(group: &str, nodes: Vec<NodeView>, ids: &mut Ids) -> SectionView {
    SectionView {
        group: group.to_owned(),
        title: group_title(group),
        heading_id: ids.make_with("group", group),
        anchored: false,
        nodes,
    }
}

/// A heading for a node group: Kratos's method names in words, any other group by its name.
pub fn group_title(group: &str) -> String {
    let known = match group {
        "default" => "Your details",
        "profile" => "Profile",
        "password" => "Password",
        "totp" => "Authenticator app",
        "lookup_secret" => "Backup recovery codes",
        "webauthn" => "Security keys",
        "passkey" => "Passkeys",
        "code" => "One-time code",
        "oidc" | "saml" => "Sign in with another account",
        "profile_identifier" | "identifier_first" => "Sign in",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    let words = group.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Other".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn login_form(nodes: Value, messages: Value) -> FormView {
        FormView::new(&container(nodes, messages), Page::Login)
    }

    fn container(nodes: Value, messages: Value) -> UiContainer {
        serde_json::from_value(json!({
            "action": "http://127.0.0.1:4433/self-service/login?flow=f",
            "method": "POST",
            "nodes": nodes,
            "messages": messages,
        }))
        .unwrap()
    }

    fn login_nodes() -> Value {
        json!([
            csrf(),
            {"type":"input","group":"default","attributes":{"name":"identifier","type":"text","value":"a@example.com","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070002,"text":"E-Mail","type":"info"}}},
            {"type":"input","group":"password","attributes":{"name":"password","type":"password","value":"secret","required":true,"autocomplete":"current-password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1070001,"text":"Password","type":"info"}}},
            {"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010022,"text":"Sign in with password","type":"info"}}}
        ])
    }

    fn csrf() -> Value {
        json!({"type":"input","group":"default","attributes":{"name":"csrf_token","type":"hidden","value":"tok","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{}})
    }

    #[test]
    fn a_single_method_is_one_form_in_node_order() {
        let form = login_form(login_nodes(), json!([]));
        assert_eq!(form.method, "post");
        assert!(!form.has_error);
        assert_eq!(form.tone, "info");
        assert_eq!(form.sections.len(), 1);
        assert_eq!(form.sections[0].group, "password");
        let names: Vec<&str> = form
            .nodes()
            .map(|n| match n {
                NodeView::Hidden { name, .. }
                | NodeView::Input { name, .. }
                | NodeView::Button { name, .. } => name.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["csrf_token", "identifier", "password", "method"]);
    }

    #[test]
    fn global_messages_set_the_tone() {
        let form = login_form(
            login_nodes(),
            json!([{"id":4000006,"text":"The provided credentials are invalid","type":"error"}]),
        );
        assert!(form.has_error);
        assert_eq!(form.tone, "error");
        assert_eq!(form.messages[0].id, 4000006);
        let form = login_form(
            login_nodes(),
            json!([{"id":1050001,"text":"Your changes have been saved!","type":"success"}]),
        );
        assert!(!form.has_error);
        assert_eq!(form.tone, "success");
    }

    #[test]
    fn each_method_group_is_its_own_form_carrying_the_default_nodes() {
        let nodes = json!([
            csrf(),
            {"type":"input","group":"totp","attributes":{"name":"totp_code","type":"text","value":"","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010006,"text":"Authentication code","type":"info"}}},
            {"type":"input","group":"totp","attributes":{"name":"method","type":"submit","value":"totp","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010009,"text":"Use Authenticator","type":"info"}}},
            {"type":"input","group":"lookup_secret","attributes":{"name":"lookup_secret","type":"text","value":"","required":true,"disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010007,"text":"Backup recovery code","type":"info"}}},
            {"type":"input","group":"lookup_secret","attributes":{"name":"method","type":"submit","value":"lookup_secret","disabled":false,"node_type":"input"},"messages":[],"meta":{"label":{"id":1010010,"text":"Use backup recovery code","type":"info"}}},
            {"type":"script","group":"webauthn","attributes":{"src":"/x.js","node_type":"script"},"messages":[],"meta":{}}
        ]);
        let form = login_form(nodes, json!([]));
        let groups: Vec<(&str, &str, &str)> = form
            .sections
            .iter()
            .map(|s| (s.group.as_str(), s.title.as_str(), s.heading_id.as_str()))
            .collect();
        // The webauthn group has nothing to show without JavaScript: no form for it.
        assert_eq!(
            groups,
            [
                ("totp", "Authenticator app", "group-totp"),
                (
                    "lookup_secret",
                    "Backup recovery codes",
                    "group-lookup_secret"
                )
            ]
        );
        for s in &form.sections {
            assert!(
                matches!(&s.nodes[0], NodeView::Hidden { name, .. } if name == "csrf_token"),
                "{s:?}"
            );
            assert_eq!(s.nodes.len(), 3);
        }
        assert!(
            matches!(&form.sections[1].nodes[1], NodeView::Input { name, required: true, .. } if name == "lookup_secret")
        );
    }

    #[test]
    fn a_default_field_repeated_in_every_form_gets_a_new_id_each_time() {
        let nodes = json!([
            {"type":"input","group":"default","attributes":{"name":"identifier","type":"text","value":"","disabled":false,"node_type":"input"},"messages":[],"meta":{}},
            {"type":"input","group":"password","attributes":{"name":"method","type":"submit","value":"password","disabled":false,"node_type":"input"},"messages":[],"meta":{}},
            {"type":"input","group":"code","attributes":{"name":"method","type":"submit","value":"code","disabled":false,"node_type":"input"},"messages":[],"meta":{}}
        ]);
        let form = login_form(nodes, json!([]));
        let ids: Vec<&str> = form
            .nodes()
            .filter_map(|n| match n {
                NodeView::Input { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["field-identifier", "field-identifier-2"]);
    }

    #[test]
    fn a_flow_with_only_default_nodes_is_one_form() {
        let form = login_form(
            json!([csrf(), {"type":"input","group":"default","attributes":{"name":"method","type":"submit","value":"x","disabled":false,"node_type":"input"},"messages":[],"meta":{}}]),
            json!([]),
        );
        assert_eq!(form.sections.len(), 1);
        assert_eq!(form.sections[0].group, "default");
        assert_eq!(form.sections[0].nodes.len(), 2);
        assert!(login_form(json!([]), json!([])).sections.is_empty());
    }

    #[test]
    fn settings_sections_keep_their_place_whatever_order_the_nodes_come_in() {
        let button = |group: &str| json!({"type":"input","group":group,"attributes":{"name":"method","type":"submit","value":group,"disabled":false,"node_type":"input"},"messages":[],"meta":{}});
        // Backup codes just generated come last in the flow's nodes; an unknown group first.
        let nodes = json!([
            csrf(),
            button("magic_link"),
            button("totp"),
            button("password"),
            button("profile"),
            button("lookup_secret")
        ]);
        let mut form = FormView::new(&container(nodes.clone(), json!([])), Page::Settings);
        let groups: Vec<&str> = form.sections.iter().map(|s| s.group.as_str()).collect();
        assert_eq!(
            groups,
            ["profile", "password", "totp", "lookup_secret", "magic_link"]
        );
        // Other pages keep the flow's order.
        let login = login_form(nodes, json!([]));
        assert_eq!(login.sections[0].group, "magic_link");

        assert!(form.sections.iter().all(|s| !s.anchored));
        form.keep_place(|group| group != "password");
        let anchored: Vec<bool> = form.sections.iter().map(|s| s.anchored).collect();
        assert_eq!(anchored, [true, false, true, true, true]);
    }

    #[test]
    fn unknown_groups_get_a_readable_title() {
        assert_eq!(group_title("totp"), "Authenticator app");
        assert_eq!(group_title("magic_link"), "Magic link");
        assert_eq!(group_title("_"), "Other");
    }
}
