//! Identity schemas: loading (`file://`, `base64://`), checking, validating traits (JSON Schema
//! draft 7), and reading the `ory.sh/kratos` extension (password identifiers, verification and
//! recovery addresses) out of validated traits.

use crate::identity::{normalize_address, normalize_identifier};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use std::path::Path;

/// One trait of the schema with what the UI and the extension need.
#[derive(Debug, Clone, PartialEq)]
pub struct TraitField {
    /// Path below `traits`, e.g. `["name", "first"]`.
    pub path: Vec<String>,
    /// JSON type (`string`, `number`, `boolean` …).
    pub json_type: String,
    /// `format`, if any.
    pub format: Option<String>,
    /// `title`, if any.
    pub title: Option<String>,
    /// Listed in its parent's `required`.
    pub required: bool,
    /// `credentials.password.identifier`.
    pub password_identifier: bool,
    /// `credentials.totp.account_name`: the name authenticator apps show for the account.
    pub totp_account_name: bool,
    /// `verification.via`.
    pub verification_via: Option<String>,
    /// `recovery.via`.
    pub recovery_via: Option<String>,
}

impl TraitField {
    /// The form field name, `traits.<path>`.
    pub fn field_name(&self) -> String {
        format!("traits.{}", self.path.join("."))
    }
}

/// A loaded, checked identity schema.
pub struct IdentitySchema {
    /// Schema id.
    pub id: String,
    /// Where it came from.
    pub url: String,
    /// The raw document, served by `GET /schemas/{id}`.
    pub raw: Value,
    /// Leaf traits in document order.
    pub fields: Vec<TraitField>,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for IdentitySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySchema")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish()
    }
}

/// One violation of the schema by some traits.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Form field it belongs to (`traits.email`), or `None` for the whole object.
    pub field: Option<String>,
    /// The UI message.
    pub message: sesame_types::UiText,
    /// Kratos-style text: `I[#/traits/email] S[#/properties/…] …`.
    pub detail: String,
    /// Where in the document: a JSON pointer (`/traits/email`).
    pub instance: String,
    /// The check's own sentence (`"email" is a required property`).
    pub text: String,
}

impl Violation {
    /// For people (the command line): the sentence, after the field it is about when that is
    /// inside the traits (`traits.name.first: …`).
    pub fn plain(&self) -> String {
        match self.instance.strip_prefix("/traits/") {
            Some(path) => format!("traits.{}: {}", path.replace('/', "."), self.text),
            None => self.text.clone(),
        }
    }
}

/// What the extension derives from valid traits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// Normalised password identifiers.
    pub password_identifiers: Vec<String>,
    /// `(via, value)` of verifiable addresses.
    pub verifiable: Vec<(String, String)>,
    /// `(via, value)` of recovery addresses.
    pub recovery: Vec<(String, String)>,
}

/// Reads a schema document from `file://PATH` (relative paths resolve against `base_dir`) or
/// `base64://DATA`.
pub fn load_document(url: &str, base_dir: &Path) -> Result<Value, String> {
    let bytes = if let Some(path) = url.strip_prefix("file://") {
        let path = Path::new(path);
        let path = if path.is_relative() {
            base_dir.join(path)
        } else {
            path.to_owned()
        };
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    } else if let Some(data) = url.strip_prefix("base64://") {
        STANDARD
            .decode(data.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(data.trim().trim_end_matches('=')))
            .map_err(|e| format!("invalid base64: {e}"))?
    } else {
        return Err(format!(
            "unsupported schema URL {url:?}: use file:// or base64://"
        ));
    };
    serde_json::from_slice(&bytes).map_err(|e| format!("not valid JSON: {e}"))
}

impl IdentitySchema {
    /// Checks the document (draft 7, `properties.traits` an object schema with properties) and
    /// compiles it.
    pub fn new(id: &str, url: &str, raw: Value) -> Result<Self, String> {
        let traits = raw
            .pointer("/properties/traits")
            .and_then(Value::as_object)
            .ok_or("the schema has no `properties.traits` object")?;
        if traits.get("type").and_then(Value::as_str) != Some("object") {
            return Err("`properties.traits` must be a schema of type object".into());
        }
        if traits
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
        {
            return Err("`properties.traits` must declare at least one property".into());
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&raw)
            .map_err(|e| format!("invalid JSON Schema: {e}"))?;
        let mut fields = Vec::new();
        collect_fields(traits, &mut Vec::new(), &mut fields);
        Ok(Self {
            id: id.to_owned(),
            url: url.to_owned(),
            raw,
            fields,
            validator,
        })
    }

    /// Form posts carry every trait as text: strings sent for the schema's integer, number and
    /// boolean traits are re-typed before validation, as Kratos's form decoder does.
    pub fn retype(&self, traits: &mut Value) {
        for field in &self.fields {
            let Some(slot) = field
                .path
                .iter()
                .try_fold(&mut *traits, |v, k| v.get_mut(k.as_str()))
            else {
                continue;
            };
            let Value::String(text) = &*slot else {
                continue;
            };
            let typed = match field.json_type.as_str() {
                "integer" => text.trim().parse::<i64>().ok().map(Value::from),
                "number" => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                "boolean" => match text.as_str() {
                    "true" | "on" | "1" => Some(Value::Bool(true)),
                    "false" | "off" | "0" => Some(Value::Bool(false)),
                    _ => None,
                },
                _ => None,
            };
            if let Some(typed) = typed {
                *slot = typed;
            }
        }
    }

    /// Validates traits and derives identifiers and addresses.
    pub fn validate(&self, traits: &Value) -> Result<Extracted, Vec<Violation>> {
        let doc = json!({ "traits": traits });
        let violations: Vec<Violation> = self
            .validator
            .iter_errors(&doc)
            .map(|e| violation(&e))
            .collect();
        if !violations.is_empty() {
            return Err(violations);
        }
        let mut out = Extracted::default();
        for field in &self.fields {
            let Some(value) = lookup(traits, &field.path) else {
                continue;
            };
            for v in strings_of(value) {
                if field.password_identifier {
                    out.password_identifiers.push(normalize_identifier(v));
                }
                if let Some(via) = &field.verification_via {
                    out.verifiable
                        .push((via.clone(), normalize_address(via, v)));
                }
                if let Some(via) = &field.recovery_via {
                    out.recovery.push((via.clone(), normalize_address(via, v)));
                }
            }
        }
        out.password_identifiers.sort();
        out.password_identifiers.dedup();
        out.verifiable.dedup();
        out.recovery.dedup();
        Ok(out)
    }

    /// The identifier label of login forms: the title of the only identifier trait, else `ID`.
    pub fn identifier_label(&self) -> sesame_types::UiText {
        let ids: Vec<&TraitField> = self
            .fields
            .iter()
            .filter(|f| f.password_identifier)
            .collect();
        match ids.as_slice() {
            [only] if only.title.is_some() => {
                let title = only.title.clone().unwrap_or_default();
                crate::messages::label(
                    1070002,
                    &title,
                    Some(json!({ "name": only.field_name(), "title": title })),
                )
            }
            _ => crate::messages::label(1070004, "ID", None),
        }
    }
}

fn strings_of(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, key| v.get(key))
}

// Recursion over the operator's schema document, which serde_json read no deeper than 128 levels.
fn collect_fields(schema: &Map<String, Value>, path: &mut Vec<String>, out: &mut Vec<TraitField>) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, prop) in props {
        let Some(prop) = prop.as_object() else {
            continue;
        };
        path.push(name.clone());
        let json_type = prop
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string")
            .to_owned();
        if json_type == "object" {
            collect_fields(prop, path, out);
        } else {
            let ext = prop.get("ory.sh/kratos");
            let ext_str = |p: &str| {
                ext.and_then(|e| e.pointer(p))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            out.push(TraitField {
                path: path.clone(),
                json_type,
                format: prop
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                title: prop.get("title").and_then(Value::as_str).map(str::to_owned),
                required: required.contains(&name.as_str()),
                password_identifier: ext
                    .and_then(|e| e.pointer("/credentials/password/identifier"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                totp_account_name: ext
                    .and_then(|e| e.pointer("/credentials/totp/account_name"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                verification_via: ext_str("/verification/via"),
                recovery_via: ext_str("/recovery/via"),
            });
        }
        path.pop();
    }
}

fn violation(e: &jsonschema::ValidationError<'_>) -> Violation {
    use jsonschema::error::ValidationErrorKind as K;
    let instance = e.instance_path.to_string();
    let text = e.to_string();
    let detail = format!("I[#{instance}] S[#{}] {text}", e.schema_path);
    let parent_field = instance
        .strip_prefix("/traits/")
        .map(|p| format!("traits.{}", p.replace('/', ".")));
    let (field, message) = match &e.kind {
        K::Required { property } => {
            let prop = property.as_str().unwrap_or_default().to_owned();
            let field = match &parent_field {
                Some(parent) => format!("{parent}.{prop}"),
                None if instance == "/traits" => format!("traits.{prop}"),
                None => prop.clone(),
            };
            (Some(field), crate::messages::missing(&prop))
        }
        K::MinLength { limit } => {
            let actual = e.instance.as_str().map_or(0, |s| s.chars().count() as u64);
            (parent_field, crate::messages::min_length(*limit, actual))
        }
        K::Format { format } => (
            parent_field,
            crate::messages::invalid_format(format!("{} is not valid {format:?}", e.instance)),
        ),
        K::Pattern { pattern } => (
            parent_field,
            crate::messages::invalid_format(format!("does not match pattern {pattern:?}")),
        ),
        _ => (parent_field, crate::messages::generic(&e.to_string())),
    };
    Violation {
        field,
        message,
        detail,
        instance,
        text,
    }
}

/// `<public base>/schemas/<base64url-no-pad(id)>`.
pub fn schema_url(public_base_url: &str, id: &str) -> String {
    format!(
        "{}/schemas/{}",
        public_base_url.trim_end_matches('/'),
        URL_SAFE_NO_PAD.encode(id)
    )
}

/// All configured schemas and the default.
#[derive(Debug)]
pub struct SchemaRegistry {
    schemas: Vec<IdentitySchema>,
    default_id: String,
}

impl SchemaRegistry {
    /// `default_id` must name one of `schemas`.
    pub fn new(schemas: Vec<IdentitySchema>, default_id: &str) -> Result<Self, String> {
        if !schemas.iter().any(|s| s.id == default_id) {
            return Err(format!("no schema has the id {default_id:?}"));
        }
        Ok(Self {
            schemas,
            default_id: default_id.to_owned(),
        })
    }

    /// A schema by id.
    pub fn get(&self, id: &str) -> Option<&IdentitySchema> {
        self.schemas.iter().find(|s| s.id == id)
    }

    /// A schema by id or by its base64url form (as in `schema_url`).
    pub fn find(&self, id_or_encoded: &str) -> Option<&IdentitySchema> {
        self.get(id_or_encoded).or_else(|| {
            let decoded = URL_SAFE_NO_PAD
                .decode(id_or_encoded.trim_end_matches('='))
                .ok()?;
            self.get(std::str::from_utf8(&decoded).ok()?)
        })
    }

    /// The default schema.
    pub fn default_schema(&self) -> &IdentitySchema {
        // `new` guarantees the default exists; fall back to the first to stay total.
        self.get(&self.default_id).unwrap_or(&self.schemas[0])
    }

    /// All schemas in configuration order.
    pub fn all(&self) -> &[IdentitySchema] {
        &self.schemas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quickstart() -> IdentitySchema {
        let raw = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"traits": {"type": "object", "properties": {
                "email": {"type": "string", "format": "email", "title": "E-Mail", "minLength": 3,
                    "ory.sh/kratos": {"credentials": {"password": {"identifier": true}},
                        "verification": {"via": "email"}, "recovery": {"via": "email"}}},
                "name": {"type": "object", "properties": {"first": {"type": "string"}}}
            }, "required": ["email"], "additionalProperties": false}}
        });
        IdentitySchema::new("default", "base64://", raw).unwrap()
    }

    #[test]
    fn extension_yields_normalised_identifiers_and_addresses() {
        let s = quickstart();
        let out = s
            .validate(&json!({"email": " Foo@Example.com "}))
            .unwrap_err();
        assert_eq!(
            out[0].message.id, 4000004,
            "leading space is not a valid email"
        );
        let out = s.validate(&json!({"email": "Foo@Example.com"})).unwrap();
        assert_eq!(out.password_identifiers, vec!["foo@example.com"]);
        assert_eq!(
            out.verifiable,
            vec![("email".to_owned(), "foo@example.com".to_owned())]
        );
        assert_eq!(s.identifier_label().id, 1070002);
    }

    #[test]
    fn violations_point_at_fields() {
        let s = quickstart();
        let v = s.validate(&json!({})).unwrap_err();
        assert_eq!(v[0].field.as_deref(), Some("traits.email"));
        assert_eq!(v[0].message.id, 4000002);
        let v = s.validate(&json!({"email": "a"})).unwrap_err();
        assert!(v.iter().any(|v| v.message.id == 4000003));
        assert!(v[0].detail.starts_with("I[#/traits/email]"));
        assert_eq!(v[0].instance, "/traits/email");
        assert!(
            v[0].plain().starts_with("traits.email: "),
            "{}",
            v[0].plain()
        );
        let v = s.validate(&json!({})).unwrap_err();
        assert_eq!(v[0].plain(), "\"email\" is a required property");
    }

    #[test]
    fn schemas_without_traits_are_refused() {
        assert!(IdentitySchema::new("x", "", json!({"type": "object"})).is_err());
        assert_eq!(
            schema_url("http://127.0.0.1:4433/", "default"),
            "http://127.0.0.1:4433/schemas/ZGVmYXVsdA"
        );
    }

    #[test]
    fn form_text_is_retyped_to_the_schemas_types() {
        let raw = json!({"type": "object", "properties": {"traits": {"type": "object", "properties": {
            "age": {"type": "integer"}, "height": {"type": "number"}, "news": {"type": "boolean"},
            "name": {"type": "string"}}}}});
        let schema = IdentitySchema::new("t", "base64://", raw).unwrap();
        let mut traits = json!({"age": "42", "height": "1.8", "news": "true", "name": "7"});
        schema.retype(&mut traits);
        assert_eq!(
            traits,
            json!({"age": 42, "height": 1.8, "news": true, "name": "7"})
        );
        let mut odd = json!({"age": "old", "news": "maybe"});
        schema.retype(&mut odd);
        assert_eq!(
            odd,
            json!({"age": "old", "news": "maybe"}),
            "left for validation to report"
        );
    }
}
