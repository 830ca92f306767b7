//! Response-schema check: a response body is validated against the response schema that Kratos's
//! own OpenAPI document (`kratos-openapi.json` in `SESAME_TEST_KRATOS_FIXTURES`, see
//! [`KratosFixtures`]) gives for its operation and status. The same check as the JS suite's `compat/node/openapi-check.mjs`; the suite runs it on
//! every response the SDK receives through [`crate::proxy`].
//!
//! What "validated" means here:
//! * The request's method and path are matched against the document's path templates (`{id}` is
//!   one segment; literal paths win over templated ones). The status picks the documented
//!   response: the exact code, then `2XX`-style ranges, then `default` (not for redirects: `default`
//!   describes error bodies). A status the operation does not document, and a response documented
//!   without a body (`emptyResponse`, e.g. 204/303), is counted but has no schema to check.
//! * The `Content-Type` must be one the document lists for that response; the body is then
//!   validated (JSON Schema 2020-12, every error). The schemas are Kratos's, rewritten only where
//!   OpenAPI 3.0 and JSON Schema differ: `nullable: true` adds `null` to `type` (and to `enum`); a
//!   `oneOf` with a `discriminator.mapping` validates against the schema the discriminating property
//!   names (an error then points at the field that is wrong, not at "oneOf"). `date-time`, `uuid`
//!   and `uuid4` formats are checked, the document's other formats (`int64`, `byte`, …) are not.
//!   `$ref`s are resolved against the document: its `components.schemas` become `$defs`.
//! * A mismatch reads `GET /sessions/whoami 200: /active "yes" is not of type "boolean"`: method,
//!   path template, status, JSON pointer into the body, and what the schema wanted.
//! * The mismatches in [`KNOWN_MISMATCHES`] (where Kratos's document disagrees with what Kratos
//!   sends) are counted and tolerated.

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value, json};
use sesame_testkit::{KratosFixtures, needs_kratos_fixtures};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A place where Kratos's OpenAPI document disagrees with what Kratos itself sends, and Sesame,
/// rightly, sends what Kratos sends (what Kratos answers is the contract). The same list as
/// `KNOWN_MISMATCHES` in `compat/node/sdk.test.mjs`.
pub struct Known {
    pub id: &'static str,
    /// `METHOD /path/{template}`, or `*` for every operation.
    pub operation: &'static str,
    /// `None`: every status.
    pub status: Option<u16>,
    /// JSON pointers into the body where `*` stands for one segment.
    pub fields: &'static [&'static str],
    pub reason: &'static str,
}

pub const KNOWN_MISMATCHES: &[Known] = &[
    Known {
        id: "native-login-continue-with-null",
        operation: "POST /self-service/login",
        status: Some(200),
        fields: &["/continue_with"],
        reason: "successfulNativeLogin.continue_with is `type: array` (not nullable), but Kratos \
                 answers a native login with `\"continue_with\": null` unless a hook adds items \
                 (spec/kratos-api.md §5.8 \"API flow\", and the worked example in §5.12); Sesame \
                 sends the same null.",
    },
    Known {
        id: "error-details-additional-properties",
        operation: "*",
        status: None,
        fields: &["/error/details/*"],
        reason: "genericError.details is `{type: object, additionalProperties: false}` in the \
                 document, i.e. it may only ever be `{}`, yet Kratos fills it (e.g. the anti-CSRF \
                 403 carries `details.docs`, `.hint`, `.reject_reason`, spec/kratos-api.md §3.3 and \
                 §5.5; the 403 aal2 error `details.redirect_browser_to`) and Sesame sends the same \
                 keys.",
    },
    Known {
        id: "session-device-user-agent-null",
        operation: "*",
        status: None,
        fields: &["/session/devices/*/user_agent", "/devices/*/user_agent"],
        reason: "sessionDevice.user_agent is `type: string` (not nullable), but Kratos records a \
                 request without a `User-Agent` header as `\"user_agent\": null` \
                 (spec/kratos-api.md §2.3: \"string or null … `null` if absent\"); Sesame sends the \
                 same null. The JS suite never meets it (axios always sends a User-Agent); here the \
                 suite's own reads with the configuration's client send none.",
    },
    Known {
        id: "admin-sessions-identity-and-devices-null-unless-expanded",
        operation: "GET /admin/sessions",
        status: Some(200),
        fields: &["/*/identity", "/*/devices"],
        reason: "session.identity is a non-nullable `$ref: identity` and session.devices a \
                 non-nullable array, but listSessions without `expand` answers `\"identity\": null` \
                 and `\"devices\": null` in Kratos (spec/kratos-api.md §2.1 fields 8 and 9, §4.7); \
                 Sesame sends the same nulls.",
    },
    Known {
        id: "admin-session-identity-null-unless-expanded",
        operation: "GET /admin/sessions/{id}",
        status: Some(200),
        fields: &["/identity"],
        reason: "session.identity is a non-nullable `$ref: identity`, but getSession without \
                 `expand=identity` answers `\"identity\": null` in Kratos (spec/kratos-api.md \
                 §4.7, §9 item 8); Sesame sends the same null.",
    },
    Known {
        id: "native-login-identity-null-until-aal2",
        operation: "POST /self-service/login",
        status: Some(200),
        fields: &["/session/identity"],
        reason: "session.identity is a non-nullable `$ref: identity`, but when a native password \
                 login leaves the session short of the AAL whoami requires (the identity has TOTP \
                 or backup codes), Kratos answers with `\"identity\": null` (Go `Identity \
                 *identity.Identity json:\"identity\"`, hidden on purpose; spec/kratos-api.md \
                 §2.3 field 8 and §5.8 \"API flow\"); Sesame sends the same null.",
    },
    Known {
        id: "browser-location-change-required-nested-error",
        operation: "POST /self-service/login",
        status: Some(422),
        fields: &["/error/error"],
        reason: "errorBrowserLocationChangeRequired.error is `$ref: errorGeneric` (itself \
                 `{error: genericError}`), i.e. the document nests the envelope twice and requires \
                 `error.error`; Kratos sends `{\"error\":{\"id\":\"browser_location_change_required\",\
                 …},\"redirect_browser_to\":\"…\"}` (spec/kratos-api.md §3.3, 422; §5.8 for an SPA \
                 login that still owes a second factor), as Sesame does.",
    },
];

/// What [`Document::try_check`] did with a response that had no unexpected mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// `METHOD /template STATUS` (or `METHOD /path STATUS` when the document has no such route).
    pub label: String,
    pub outcome: Outcome,
    /// Ids of the [`KNOWN_MISMATCHES`] the body showed.
    pub known: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The body was validated against the documented schema.
    Validated,
    /// The documented response has no body schema (e.g. 204, 303).
    NoSchema,
    /// The document has no such operation, or the operation does not document the status.
    Undocumented,
}

/// Kratos's OpenAPI document, rewritten for JSON Schema, with compiled validators.
pub struct Document {
    doc: Value,
    defs: Value,
    /// `(template, params, segments)`, literal-first.
    templates: Vec<(String, usize, usize)>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The document, loaded once per test process from `SESAME_TEST_KRATOS_FIXTURES`; `None` when
/// that is not set (outside CI): the suite then runs without checking bodies, and the tests that
/// need the document are reported as ignored.
pub fn document() -> Option<&'static Document> {
    static DOC: OnceLock<Option<Document>> = OnceLock::new();
    DOC.get_or_init(|| {
        let file = KratosFixtures::from_env()?.openapi();
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("Kratos's OpenAPI document {}: {e}", file.display()));
        Some(Document::new(
            serde_json::from_str(&text).expect("kratos-openapi.json is JSON"),
        ))
    })
    .as_ref()
}

/// The document, for a test that [`needs_kratos_fixtures!`].
pub fn required_document() -> &'static Document {
    KratosFixtures::required();
    document().expect("SESAME_TEST_KRATOS_FIXTURES is set")
}

/// Checks one response and panics on an unexpected mismatch (see [`Document::try_check`]).
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Checked {
    required_document()
        .try_check(method, path, status, content_type, body)
        .unwrap_or_else(|mismatches| panic!("{}", mismatches.join("\n")))
}

impl Document {
    pub fn new(doc: Value) -> Document {
        let mut doc = doc;
        let defs = doc
            .pointer_mut("/components/schemas")
            .map(Value::take)
            .expect("the document has components.schemas");
        let defs = Value::Object(
            defs.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect(),
        );
        let mut templates: Vec<(String, usize, usize)> = doc["paths"]
            .as_object()
            .expect("the document has paths")
            .keys()
            .map(|t| {
                let segments = t.split('/').collect::<Vec<_>>();
                let params = segments.iter().filter(|s| is_param(s)).count();
                (t.clone(), params, segments.len())
            })
            .collect();
        templates.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)));
        Document {
            doc,
            defs,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The path template and operation object for a request.
    fn route(&self, method: &str, path: &str) -> Option<(&str, &Value)> {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let wanted = path.split('/').collect::<Vec<_>>();
        self.templates.iter().find_map(|(template, _, len)| {
            let segments = template.split('/');
            let matches = *len == wanted.len()
                && segments
                    .zip(&wanted)
                    .all(|(s, w)| if is_param(s) { !w.is_empty() } else { s == *w });
            let operation = self.doc["paths"][template].get(method.to_lowercase())?;
            matches.then_some((template.as_str(), operation))
        })
    }

    /// Checks one response: `Ok` when the body matches (or has nothing to match), else every
    /// unexpected mismatch as `METHOD /template STATUS: <field> <message>`.
    pub fn try_check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Checked, Vec<String>> {
        let method = method.to_uppercase();
        let path = path.split('?').next().unwrap_or_default();
        let Some((template, operation)) = self.route(&method, path) else {
            return Ok(Checked {
                label: format!("{method} {path} {status}"),
                outcome: Outcome::Undocumented,
                known: vec![],
            });
        };
        let op_label = format!("{method} {template}");
        let label = format!("{op_label} {status}");
        let done = |outcome, known| {
            Ok(Checked {
                label: label.clone(),
                outcome,
                known,
            })
        };

        let responses = &operation["responses"];
        let class = status / 100;
        let mut candidates = vec![
            status.to_string(),
            format!("{class}XX"),
            format!("{class}xx"),
        ];
        if !(300..400).contains(&status) {
            candidates.push("default".into());
        }
        let Some(mut response) = candidates.iter().find_map(|k| responses.get(k)) else {
            return done(Outcome::Undocumented, vec![]);
        };
        if let Some(Value::String(r)) = response.get("$ref") {
            response = self
                .doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("unresolvable response $ref {r}"));
        }
        let Some(content) = response
            .get("content")
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty())
        else {
            return done(Outcome::NoSchema, vec![]);
        };

        let content_type = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let media = content
            .iter()
            .find(|(k, _)| k.to_lowercase() == content_type)
            .or_else(|| {
                content.iter().find(|(k, _)| {
                    k.strip_suffix('*')
                        .is_some_and(|p| p.ends_with('/') && content_type.starts_with(p))
                })
            })
            .or_else(|| content.iter().find(|(k, _)| *k == "*/*"));
        let Some((media_key, media)) = media else {
            let listed = content.keys().cloned().collect::<Vec<_>>().join(", ");
            let shown = if content_type.is_empty() {
                "(none)"
            } else {
                &content_type
            };
            return Err(vec![format!(
                "{label}: / Content-Type \"{shown}\" is not documented ({listed})"
            )]);
        };
        let Some(schema) = media.get("schema") else {
            return done(Outcome::NoSchema, vec![]);
        };
        let instance: Value = if media_key.contains("json") {
            serde_json::from_slice(body).map_err(|e| {
                let start = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
                vec![format!("{label}: / body is not JSON ({e}): {start:?}")]
            })?
        } else {
            Value::String(String::from_utf8_lossy(body).into_owned())
        };

        let key = format!("{template}\n{method}\n{status}\n{media_key}");
        let validator = self.validator(&key, schema);
        let mut known = vec![];
        let mut unexpected = vec![];
        for (field, message) in describe(&validator, &instance) {
            let hit = KNOWN_MISMATCHES.iter().find(|k| {
                (k.operation == "*" || k.operation == op_label)
                    && k.status.is_none_or(|s| s == status)
                    && k.fields.iter().any(|p| field_matches(p, &field))
            });
            match hit {
                Some(k) => known.push(k.id),
                None => {
                    let field = if field.is_empty() { "/" } else { &field };
                    unexpected.push(format!("{label}: {field} {message}"));
                }
            }
        }
        if unexpected.is_empty() {
            done(Outcome::Validated, known)
        } else {
            Err(unexpected)
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Arc<Validator> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": self.defs,
            "allOf": [to_json_schema(schema)],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("date-time", is_date_time)
            .with_format("uuid", |s: &str| is_uuid(s, false))
            .with_format("uuid4", |s: &str| is_uuid(s, true))
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema for {key:?} does not compile: {e}"));
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), validator.clone());
        validator
    }
}

/// Every validation error as `(JSON pointer of the field, message)`, with the missing or extra
/// property in the pointer, deduplicated.
fn describe(validator: &Validator, instance: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    for e in validator.iter_errors(instance) {
        let at = e.instance_path.as_str().to_owned();
        let schema_path = e.schema_path.as_str();
        let mut found = vec![];
        match &e.kind {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                found.push((
                    format!("{at}/{}", escape(name)),
                    "is required but missing".to_owned(),
                ));
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    found.push((
                        format!("{at}/{}", escape(name)),
                        "is not allowed here (additionalProperties: false)".to_owned(),
                    ));
                }
            }
            // `additionalProperties: false` without `properties`: every key is extra, and the
            // library names only the first one's value.
            ValidationErrorKind::FalseSchema if schema_path.ends_with("/additionalProperties") => {
                let keys = instance
                    .pointer(&at)
                    .and_then(Value::as_object)
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                for name in keys {
                    found.push((
                        format!("{at}/{}", escape(&name)),
                        "is not allowed here (additionalProperties: false)".to_owned(),
                    ));
                }
            }
            _ => found.push((at, e.to_string())),
        }
        for (field, message) in found {
            let entry = (field, format!("{message} (schema {schema_path})"));
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// RFC 6901 escaping of one pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn field_matches(pattern: &str, pointer: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (p, f) = (
        pattern.split('/').collect::<Vec<_>>(),
        pointer.split('/').collect::<Vec<_>>(),
    );
    p.len() == f.len() && p.iter().zip(&f).all(|(p, f)| *p == "*" || p == f)
}

/// `#/components/schemas/X` → `#/$defs/X` (the document's schemas are the root schema's `$defs`).
fn rewrite_ref(r: &str) -> String {
    match r.strip_prefix("#/components/schemas/") {
        Some(name) => format!("#/$defs/{name}"),
        None => panic!("a schema $ref outside components.schemas: {r}"),
    }
}

/// One OpenAPI 3.0 schema object (and its sub-schemas) as JSON Schema that reads the way OpenAPI
/// means it. Only schema positions are visited: property *names* such as `type` or `nullable`
/// inside `properties` are never mistaken for keywords.
fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(schema) = schema else {
        return schema.clone();
    };
    let mut out = schema.clone();
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = out.get(key) {
            let props = props
                .iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect();
            out.insert(key.into(), Value::Object(props));
        }
    }
    for key in ["additionalProperties", "items", "not"] {
        if let Some(v @ Value::Object(_)) = out.get(key) {
            let v = to_json_schema(v);
            out.insert(key.into(), v);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = out.get(key) {
            let items = items.iter().map(to_json_schema).collect();
            out.insert(key.into(), Value::Array(items));
        }
    }
    if let Some(Value::String(r)) = out.get("$ref") {
        let r = rewrite_ref(r);
        out.insert("$ref".into(), Value::String(r));
    }

    // OpenAPI 3.0's `nullable: true` is JSON Schema's `null` in `type`.
    if out.remove("nullable") == Some(Value::Bool(true)) {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(types)) if !types.contains(&json!("null")) => {
                types.push(json!("null"))
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
        // Without `type` the schema restricts through composition only: allow null next to it.
        if !out.contains_key("type")
            && ["$ref", "allOf", "anyOf", "oneOf"]
                .iter()
                .any(|k| out.contains_key(*k))
        {
            return json!({"anyOf": [Value::Object(out), {"type": "null"}]});
        }
    }

    // `oneOf` + `discriminator.mapping`: the discriminating property picks the schema.
    let mapping = out
        .get("discriminator")
        .and_then(|d| {
            Some((
                d.get("propertyName")?.as_str()?,
                d.get("mapping")?.as_object()?,
            ))
        })
        .map(|(p, m)| (p.to_owned(), m.clone()));
    if let (Some((property, mapping)), true) = (mapping, out.contains_key("oneOf")) {
        out.remove("oneOf");
        out.remove("discriminator");
        out.entry("type").or_insert(json!("object"));
        let required = out.entry("required").or_insert(json!([]));
        if let Value::Array(required) = required
            && !required.contains(&json!(property))
        {
            required.push(json!(property));
        }
        let values = mapping.keys().cloned().collect::<Vec<_>>();
        let props = out.entry("properties").or_insert(json!({}));
        if let Value::Object(props) = props {
            props.insert(property.clone(), json!({"type": "string", "enum": values}));
        }
        let mut all_of = match out.remove("allOf") {
            Some(Value::Array(a)) => a,
            _ => vec![],
        };
        for (value, target) in &mapping {
            let target = rewrite_ref(target.as_str().expect("a discriminator mapping is a $ref"));
            let mut when = Map::new();
            when.insert(property.clone(), json!({"const": value}));
            all_of.push(json!({
                "if": {"properties": when, "required": [property]},
                "then": {"$ref": target},
            }));
        }
        out.insert("allOf".into(), Value::Array(all_of));
    }
    Value::Object(out)
}

/// RFC 3339 date-time as Go's RFC3339Nano writes it (fractional seconds optional, `Z` or offset).
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || !matches!(b[10], b'T' | b't')
        || !(digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19))
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let z = rest.as_bytes();
    matches!(rest, "Z" | "z")
        || (z.len() == 6
            && matches!(z[0], b'+' | b'-')
            && z[1..3].iter().all(u8::is_ascii_digit)
            && z[3] == b':'
            && z[4..6].iter().all(u8::is_ascii_digit))
}

/// A hyphenated UUID; with `v4`, a version-4 RFC 4122 one.
fn is_uuid(s: &str, v4: bool) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
        && (!v4 || (b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')))
}

needs_kratos_fixtures! {
    #[test]
    fn a_whoami_body_with_a_wrong_field_type_is_rejected_with_the_field() {
        let body = json!({
            "id": "9f425a8d-7efc-4768-8f23-7647a74fdf13",
            "active": "yes",
            "expires_at": "2025-01-01T00:00:00Z",
        });
        let err = required_document()
            .try_check(
                "GET",
                "/sessions/whoami",
                200,
                Some("application/json; charset=utf-8"),
                body.to_string().as_bytes(),
            )
            .unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(
            err[0].starts_with("GET /sessions/whoami 200: /active \"yes\" is not of type \"boolean\""),
            "{err:?}"
        );

        // Formats, required fields, the content type, and the panicking entry point.
        let body = json!({"active": true, "expires_at": "yesterday"});
        let err = required_document()
            .try_check(
                "GET",
                "/sessions/whoami",
                200,
                Some("application/json"),
                body.to_string().as_bytes(),
            )
            .unwrap_err();
        assert!(
            err.iter()
                .any(|e| e.starts_with("GET /sessions/whoami 200: /id is required")),
            "{err:?}"
        );
        assert!(
            err.iter()
                .any(|e| e.starts_with("GET /sessions/whoami 200: /expires_at ")),
            "{err:?}"
        );
        let err = required_document()
            .try_check("GET", "/sessions/whoami", 200, Some("text/html"), b"<html>")
            .unwrap_err();
        assert!(
            err[0].contains("Content-Type \"text/html\" is not documented"),
            "{err:?}"
        );
        let panic = std::panic::catch_unwind(|| {
            check(
                "GET",
                "/sessions/whoami",
                200,
                Some("application/json"),
                br#"{"id": 1}"#,
            )
        })
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with("GET /sessions/whoami 200: /id 1 is not of type \"string\""),
            "{message}"
        );
    }
}

needs_kratos_fixtures! {
    #[test]
    fn the_known_mismatches_are_still_in_kratos_document_and_only_they_are_tolerated() {
        let mut ids = KNOWN_MISMATCHES.iter().map(|k| k.id).collect::<Vec<_>>();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), KNOWN_MISMATCHES.len(), "unique ids");
        for k in KNOWN_MISMATCHES {
            assert!(
                k.reason.len() > 40 && !k.fields.is_empty(),
                "{} needs a reason",
                k.id
            );
        }
        // Each entry still describes a real disagreement of the document (else it must go).
        let login = json!({"session": {"id": "9f425a8d-7efc-4768-8f23-7647a74fdf13",
            "devices": [{"id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "user_agent": null}]},
            "session_token": "ory_st_x", "continue_with": null});
        let checked = check(
            "POST",
            "/self-service/login",
            200,
            Some("application/json"),
            login.to_string().as_bytes(),
        );
        assert_eq!(checked.label, "POST /self-service/login 200");
        assert_eq!(
            (checked.outcome, checked.known),
            (
                Outcome::Validated,
                vec![
                    "native-login-continue-with-null",
                    "session-device-user-agent-null"
                ]
            )
        );
        let error = json!({"error": {"code": 403, "message": "forbidden", "details": {"hint": "x", "docs": "y"}}});
        let checked = check(
            "POST",
            "/self-service/login",
            403,
            Some("application/json"),
            error.to_string().as_bytes(),
        );
        assert_eq!(checked.known, ["error-details-additional-properties"; 2]);
        // A native login that still owes a second factor hides the identity; an SPA's is told to move.
        let owed = json!({"session": {"id": "9f425a8d-7efc-4768-8f23-7647a74fdf13", "identity": null},
            "session_token": "ory_st_x", "continue_with": null});
        let checked = check(
            "POST",
            "/self-service/login",
            200,
            Some("application/json"),
            owed.to_string().as_bytes(),
        );
        assert_eq!(
            checked.known,
            [
                "native-login-continue-with-null",
                "native-login-identity-null-until-aal2"
            ]
        );
        let moved = json!({"error": {"id": "browser_location_change_required", "code": 422,
            "status": "Unprocessable Entity", "message": "browser location change required"},
            "redirect_browser_to": "http://x/self-service/login/browser?aal=aal2"});
        let checked = check(
            "POST",
            "/self-service/login",
            422,
            Some("application/json"),
            moved.to_string().as_bytes(),
        );
        assert_eq!(
            checked.known,
            ["browser-location-change-required-nested-error"]
        );
        // Elsewhere, a null where an array is documented is not tolerated.
        let registration = json!({"identity": {"id": "9f425a8d-7efc-4768-8f23-7647a74fdf13", "schema_id": "default",
            "schema_url": "http://x/schemas/ZGVmYXVsdA", "traits": {}}, "continue_with": null});
        assert!(
            required_document()
                .try_check(
                    "POST",
                    "/self-service/registration",
                    200,
                    Some("application/json"),
                    registration.to_string().as_bytes()
                )
                .is_err_and(
                    |e| e.len() == 1 && e[0].contains("/continue_with null is not of type \"array\"")
                )
        );
        // Ids match one segment; a status the operation does not document (a redirect does not fall
        // back to `default`) is only counted.
        let checked = check("GET", "/admin/identities/abc/", 307, None, b"");
        assert_eq!(
            (checked.label.as_str(), checked.outcome),
            ("GET /admin/identities/{id} 307", Outcome::Undocumented)
        );
        let checked = check("DELETE", "/self-service/logout/api", 204, None, b"");
        assert_eq!(checked.outcome, Outcome::NoSchema);
        // An error status the operation does not list falls back to `default` (an error body).
        let err = required_document()
            .try_check("GET", "/admin/identities/abc", 418, None, b"")
            .unwrap_err();
        assert!(
            err[0].starts_with("GET /admin/identities/{id} 418: / Content-Type \"(none)\""),
            "{err:?}"
        );
    }
}
