//! `PATCH /admin/identities/{id}`: an RFC 6902 JSON Patch applied to the identity's admin JSON
//! (credentials with their configuration included), then checked and saved as a replace is.
//!
//! As in Kratos: only `add`, `remove` and `replace` are applied; `replace` of a member that does not
//! exist adds it and `add` creates missing parent objects; `/id`, `/credentials` as a whole and the
//! OIDC and SAML credentials may not be touched. Server-managed fields (`schema_url`,
//! `state_changed_at`, `created_at`, `updated_at`) are ignored when patched.

use super::identities::{
    check_stored, conflict, non_null, recovery_addresses, verifiable_addresses,
};
use super::{IdentityService, identity_or_404};
use crate::aal::available_aal;
use crate::error::CoreError;
use crate::identity::{Credential, CredentialType, Identity};
use crate::ids::IdentityId;
use crate::lookup::RecoveryCode;
use crate::password::check_imported_hash;
use crate::schema::Extracted;
use crate::totp::TotpSecret;
use crate::untrusted::{self, MAX_DEPTH};
use chrono::{DateTime, Utc};
use json_patch::jsonptr::Pointer;
use json_patch::{AddOperation, PatchOperation};
use serde_json::{Map, Value};
use sesame_types::{IdentityState, RecoveryAddress, VerifiableAddress};
use uuid::Uuid;

/// Levels of the identity's admin JSON above a stored value: the document, `credentials`, its
/// type, and `config`. A patched document may nest at most this much deeper than a stored value,
/// and a path may not have more tokens, so that no operation builds a value deeper than the
/// walkers after it (serialisation, drop) can take.
const DOCUMENT_LEVELS: usize = 4;

/// Kratos's reason for every patch it cannot apply (its spelling); `error.message` says why.
const PATCH_FAILED: &str = "An error occured when applying the JSON patch";

fn patch_error(message: impl Into<String>) -> CoreError {
    CoreError::BadRequest {
        reason: PATCH_FAILED.into(),
        message: Some(message.into()),
    }
}

/// The paths a patch may not touch. `/stateChangedAt` is Kratos's own (camel-cased) entry; the root
/// would replace the id with the rest.
fn denied(path: &str) -> bool {
    const EXACT: [&str; 4] = ["", "/id", "/stateChangedAt", "/credentials"];
    const SUBTREES: [&str; 2] = ["/credentials/oidc", "/credentials/saml"];
    EXACT.contains(&path)
        || SUBTREES.iter().any(|t| {
            path.strip_prefix(t)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

fn op_name(op: &PatchOperation) -> &'static str {
    match op {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    }
}

/// Whether a path ends in an array index (or `-`), where `replace` keeps its strict meaning.
fn element_access(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last == "-" || last.parse::<i64>().is_ok())
}

/// Parses a patch document and checks every operation before any is applied.
pub(crate) fn parse_patch(body: &[u8]) -> Result<Vec<PatchOperation>, CoreError> {
    let ops: Vec<PatchOperation> = serde_json::from_slice(body)
        .map_err(|e| patch_error(format!("the body is not a JSON Patch document: {e}")))?;
    ops.into_iter()
        .map(|op| {
            if !matches!(
                op,
                PatchOperation::Add(_) | PatchOperation::Remove(_) | PatchOperation::Replace(_)
            ) {
                return Err(patch_error(format!(
                    "unsupported operation: {}",
                    op_name(&op)
                )));
            }
            let path = op.path().as_str().to_owned();
            if op
                .path()
                .tokens()
                .nth(MAX_DEPTH + DOCUMENT_LEVELS)
                .is_some()
            {
                return Err(patch_error(format!(
                    "patch path is deeper than {} levels",
                    MAX_DEPTH + DOCUMENT_LEVELS
                )));
            }
            if denied(&path) {
                return Err(patch_error(format!("patch includes denied path: {path}")));
            }
            Ok(match op {
                // Kratos is tolerant here: replacing a member that does not exist adds it.
                PatchOperation::Replace(r) if !element_access(&path) => {
                    PatchOperation::Add(AddOperation {
                        path: r.path,
                        value: r.value,
                    })
                }
                other => other,
            })
        })
        .collect()
}

/// Creates the missing (or `null`) parent objects of an `add` target.
fn ensure_parents(doc: &mut Value, path: &Pointer) {
    let tokens: Vec<String> = path.tokens().map(|t| t.decoded().into_owned()).collect();
    let Some((_, parents)) = tokens.split_last() else {
        return;
    };
    let mut current = doc;
    for token in parents {
        current = match current {
            Value::Object(members) => {
                let slot = members.entry(token.clone()).or_insert(Value::Null);
                if slot.is_null() {
                    *slot = Value::Object(Map::new());
                }
                slot
            }
            Value::Array(items) => match token.parse::<usize>().ok().and_then(|i| items.get_mut(i))
            {
                Some(item) => item,
                None => return,
            },
            _ => return,
        };
    }
}

/// Applies checked operations in order.
pub(crate) fn apply_patch(doc: &mut Value, ops: &[PatchOperation]) -> Result<(), CoreError> {
    for (index, op) in ops.iter().enumerate() {
        if let PatchOperation::Add(add) = op {
            ensure_parents(doc, &add.path);
        }
        json_patch::patch(doc, std::slice::from_ref(op)).map_err(|e| {
            patch_error(format!(
                "operation '/{index}' failed at path '{}': {}",
                e.path, e.kind
            ))
        })?;
        // Checked after every operation: operations that each add a value of bounded depth
        // below the previous one would otherwise build a document of any depth.
        if untrusted::depth(doc) > MAX_DEPTH + DOCUMENT_LEVELS {
            return Err(patch_error(format!(
                "operation '/{index}' makes the identity nest deeper than {MAX_DEPTH} levels"
            )));
        }
    }
    Ok(())
}

/// Go's name for a JSON value's type, for its `cannot unmarshal` message.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(field: &str, expected: &str, got: &Value) -> CoreError {
    patch_error(format!(
        "json: cannot unmarshal {} into Go struct field Identity.{field} of type {expected}",
        json_kind(got)
    ))
}

/// What a patched document says about the identity.
struct Patched {
    schema_id: Option<String>,
    state: IdentityState,
    traits: Value,
    verifiable: Vec<VerifiableAddress>,
    recovery: Vec<RecoveryAddress>,
    metadata_public: Option<Value>,
    metadata_admin: Option<Value>,
    external_id: Option<String>,
    organization_id: Option<Uuid>,
    credentials: Map<String, Value>,
}

fn optional_string(field: &str, v: Value) -> Result<Option<String>, CoreError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s).filter(|s| !s.is_empty())),
        other => Err(type_error(field, "string", &other)),
    }
}

fn list<T: serde::de::DeserializeOwned>(field: &str, v: Value) -> Result<Vec<T>, CoreError> {
    match v {
        Value::Null => Ok(Vec::new()),
        v @ Value::Array(_) => serde_json::from_value(v)
            .map_err(|e| patch_error(format!("json: cannot unmarshal {field}: {e}"))),
        other => Err(type_error(field, "array", &other)),
    }
}

fn decode(doc: Value) -> Result<Patched, CoreError> {
    let Value::Object(mut doc) = doc else {
        return Err(type_error("(root)", "object", &doc));
    };
    let mut take = |name: &str| doc.remove(name).unwrap_or(Value::Null);
    let schema_id = optional_string("schema_id", take("schema_id"))?;
    let state = match optional_string("state", take("state"))?.as_deref() {
        Some("active") => IdentityState::Active,
        Some("inactive") => IdentityState::Inactive,
        other => {
            return Err(CoreError::bad_request(format!(
                "The supplied state ('{}') was not valid. Valid states are ('active', 'inactive').",
                other.unwrap_or_default()
            )));
        }
    };
    let traits = take("traits");
    let verifiable = list("verifiable_addresses", take("verifiable_addresses"))?;
    let recovery = list("recovery_addresses", take("recovery_addresses"))?;
    let metadata_public = non_null(Some(take("metadata_public")));
    let metadata_admin = non_null(Some(take("metadata_admin")));
    let external_id = optional_string("external_id", take("external_id"))?;
    let organization_id = optional_string("organization_id", take("organization_id"))?
        .map(|s| {
            Uuid::parse_str(&s)
                .map_err(|e| patch_error(format!("json: cannot unmarshal organization_id: {e}")))
        })
        .transpose()?;
    let credentials = match take("credentials") {
        Value::Null => Map::new(),
        Value::Object(c) => c,
        other => return Err(type_error("credentials", "object", &other)),
    };
    Ok(Patched {
        schema_id,
        state,
        traits,
        verifiable,
        recovery,
        metadata_public,
        metadata_admin,
        external_id,
        organization_id,
        credentials,
    })
}

/// A changed credential configuration must be one Sesame can use.
fn check_config(kind: CredentialType, config: &Value) -> Result<(), CoreError> {
    match kind {
        CredentialType::Password => {
            // A plaintext password is hashed on create and replace; a patch stores config as it
            // is, and no plaintext password may ever be stored.
            if config.get("password").is_some() {
                return Err(patch_error(
                    "credentials.password.config.password: a plaintext password cannot be patched in; replace the identity (PUT) with credentials.password.config.password instead",
                ));
            }
            match config.get("hashed_password") {
                None | Some(Value::Null) => Ok(()),
                Some(Value::String(hash)) => check_imported_hash(hash),
                Some(other) => Err(type_error(
                    "credentials.password.config.hashed_password",
                    "string",
                    other,
                )),
            }
        }
        CredentialType::Totp => match config.get("totp_url") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(url)) if TotpSecret::from_url(url).is_some() => Ok(()),
            Some(_) => Err(CoreError::bad_request(
                "credentials.totp.config.totp_url is not an otpauth:// URL with a valid secret.",
            )),
        },
        CredentialType::LookupSecret => match config.get("recovery_codes") {
            None | Some(Value::Null) => Ok(()),
            Some(codes) => serde_json::from_value::<Vec<RecoveryCode>>(codes.clone())
                .map(|_| ())
                .map_err(|e| {
                    CoreError::bad_request(format!(
                        "credentials.lookup_secret.config.recovery_codes are not valid: {e}"
                    ))
                }),
        },
    }
}

/// Marks an address changed by the patch: `verified` sets `verified_at` (now, unless given) and
/// clearing it drops `verified_at`, as Kratos does; a changed address gets `updated_at = now`.
fn touch_addresses(
    addresses: &mut [VerifiableAddress],
    stored: &[VerifiableAddress],
    now: DateTime<Utc>,
) {
    for a in addresses {
        if !a.verified {
            a.verified_at = None;
        } else if a.verified_at.is_none() {
            a.verified_at = Some(now);
        }
        let before = stored.iter().find(|s| s.id == a.id);
        let changed = before.is_none_or(|s| {
            (s.verified, &s.status, s.verified_at) != (a.verified, &a.status, a.verified_at)
        });
        if changed {
            a.updated_at = now;
        }
    }
}

impl IdentityService {
    /// `PATCH /admin/identities/{id}`: applies `body` (a JSON Patch document) to the identity's
    /// admin JSON and saves the result as `PUT` would (schema, identifiers and addresses follow
    /// the traits, `available_aal` follows the credentials). A state change is timestamped.
    pub async fn patch(
        &self,
        id: IdentityId,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<sesame_types::Identity, CoreError> {
        let mut identity = identity_or_404(&self.0, id).await?;
        let ops = parse_patch(body)?;
        let existing = self.0.store.credentials(&[id]).await?;
        let all_types = [
            CredentialType::Password,
            CredentialType::Totp,
            CredentialType::LookupSecret,
        ];
        let mut doc = serde_json::to_value(self.wire_with(&identity, &existing, &all_types))
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        apply_patch(&mut doc, &ops)?;
        let patched = decode(doc)?;
        check_stored(
            &patched.traits,
            patched.metadata_public.as_ref(),
            patched.metadata_admin.as_ref(),
            patched.external_id.as_deref(),
        )?;
        for (name, credential) in &patched.credentials {
            untrusted::json(&format!("credentials.{name}"), credential)?;
        }

        let schema_id = patched
            .schema_id
            .unwrap_or_else(|| self.0.schemas.default_schema().id.clone());
        let extracted = self.validate(&schema_id, &patched.traits)?;
        let credentials = patched_credentials(id, &existing, patched.credentials, &extracted, now)?;
        if patched.state != identity.state {
            identity.state = patched.state;
            identity.state_changed_at = Some(now);
        }
        let mut verifiable = verifiable_addresses(&extracted, &patched.verifiable, now);
        touch_addresses(&mut verifiable, &identity.verifiable_addresses, now);
        identity = Identity {
            schema_id,
            traits: patched.traits,
            metadata_public: patched.metadata_public,
            metadata_admin: patched.metadata_admin,
            external_id: patched.external_id,
            organization_id: patched.organization_id,
            verifiable_addresses: verifiable,
            recovery_addresses: recovery_addresses(&extracted, &patched.recovery, now),
            available_aal: available_aal(&credentials),
            updated_at: now,
            ..identity
        };
        self.0
            .store
            .update_identity(&identity, Some(&credentials))
            .await
            .map_err(conflict)?;
        Ok(self.wire_with(&identity, &credentials, &[]))
    }
}

/// The credentials a patched document describes: its configuration per type, identifiers as the
/// traits (password) or the stored credential (second factors) say.
fn patched_credentials(
    id: IdentityId,
    existing: &[Credential],
    patched: Map<String, Value>,
    extracted: &Extracted,
    now: DateTime<Utc>,
) -> Result<Vec<Credential>, CoreError> {
    let mut out = Vec::with_capacity(patched.len());
    for (name, value) in patched {
        let kind = CredentialType::parse(&name)
            .ok_or_else(|| patch_error(format!("unsupported credentials type: {name}")))?;
        let Value::Object(mut fields) = value else {
            return Err(type_error(
                &format!("credentials.{name}"),
                "Credentials",
                &value,
            ));
        };
        let config = match fields.remove("config") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(config @ Value::Object(_)) => config,
            Some(other) => {
                return Err(type_error(
                    &format!("credentials.{name}.config"),
                    "object",
                    &other,
                ));
            }
        };
        let previous = existing.iter().find(|c| c.kind == kind);
        if previous.is_none_or(|p| p.config != config) {
            check_config(kind, &config)?;
        }
        let identifiers = match kind {
            CredentialType::Password => extracted.password_identifiers.clone(),
            _ => previous.map_or_else(|| vec![id.0.to_string()], |p| p.identifiers.clone()),
        };
        let unchanged = previous
            .filter(|p| p.config == config && p.identifiers == identifiers)
            .map(|p| p.updated_at);
        out.push(Credential {
            id: previous.map_or_else(Uuid::new_v4, |p| p.id),
            identity_id: id,
            kind,
            identifiers,
            config,
            version: previous.map_or(0, |p| p.version),
            created_at: previous.map_or(now, |p| p.created_at),
            updated_at: unchanged.unwrap_or(now),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(doc: Value, patch: Value) -> Result<Value, CoreError> {
        let ops = parse_patch(patch.to_string().as_bytes())?;
        let mut doc = doc;
        apply_patch(&mut doc, &ops)?;
        Ok(doc)
    }

    fn message(e: CoreError) -> String {
        match e {
            CoreError::BadRequest { message, .. } => message.unwrap_or_default(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn replace_of_a_missing_member_adds_it_and_add_creates_parents() {
        let doc = json!({"traits": {"email": "a@example.com"}, "metadata_public": null});
        let out = patched(
            doc,
            json!([
                {"op": "replace", "path": "/traits/name", "value": "Ada"},
                {"op": "add", "path": "/metadata_public/plan/tier", "value": "pro"}
            ]),
        )
        .unwrap();
        assert_eq!(out["traits"]["name"], "Ada");
        assert_eq!(out["metadata_public"], json!({"plan": {"tier": "pro"}}));
    }

    #[test]
    fn replace_of_a_missing_array_element_fails() {
        let err = patched(
            json!({"a": [1]}),
            json!([{"op": "replace", "path": "/a/3", "value": 2}]),
        )
        .unwrap_err();
        assert_eq!(
            message(err),
            "operation '/0' failed at path '/a/3': path is invalid"
        );
    }

    #[test]
    fn denied_paths_and_unsupported_operations_are_refused_before_anything_applies() {
        for (patch, expected) in [
            (
                json!([{"op": "replace", "path": "/id", "value": "x"}]),
                "patch includes denied path: /id",
            ),
            (
                json!([{"op": "remove", "path": "/credentials"}]),
                "patch includes denied path: /credentials",
            ),
            (
                json!([{"op": "add", "path": "/credentials/oidc/config", "value": {}}]),
                "patch includes denied path: /credentials/oidc/config",
            ),
            (
                json!([{"op": "add", "path": "/credentials/saml", "value": {}}]),
                "patch includes denied path: /credentials/saml",
            ),
            (
                json!([{"op": "replace", "path": "", "value": {}}]),
                "patch includes denied path: ",
            ),
            (
                json!([{"op": "test", "path": "/traits", "value": {}}]),
                "unsupported operation: test",
            ),
            (
                json!([{"op": "move", "from": "/a", "path": "/b"}]),
                "unsupported operation: move",
            ),
        ] {
            let err = parse_patch(patch.to_string().as_bytes()).unwrap_err();
            assert_eq!(message(err), expected);
        }
        assert!(
            parse_patch(br#"[{"op": "add", "path": "/credentials/password/config", "value": {}}]"#)
                .is_ok()
        );
        assert!(
            parse_patch(br#"[{"op": "add", "path": "/credentials/oidcx", "value": {}}]"#).is_ok()
        );
    }

    #[test]
    fn a_body_that_is_no_patch_document_is_refused() {
        for body in [
            &b""[..],
            b"{}",
            b"[{\"op\": \"add\"}]",
            b"[{\"op\": \"frob\", \"path\": \"/a\"}]",
        ] {
            let err = parse_patch(body).unwrap_err();
            assert!(
                message(err).starts_with("the body is not a JSON Patch document: "),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn pointer() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("traits".to_owned()),
                Just("metadata_public".to_owned()),
                Just("a".to_owned()),
                Just("0".to_owned()),
                Just("-".to_owned()),
                Just("~1".to_owned()),
                "[a-z~]{0,3}",
            ],
            0..80,
        )
        .prop_map(|tokens| tokens.iter().map(|t| format!("/{t}")).collect())
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            ".{0,6}".prop_map(Value::from),
            (0usize..140).prop_map(|d| crate::untrusted::nested(d, json!(1))),
            Just(json!([1, {"a": []}])),
        ]
    }

    fn op() -> impl Strategy<Value = Value> {
        (
            prop_oneof![
                Just("add"),
                Just("remove"),
                Just("replace"),
                Just("move"),
                Just("test"),
                Just("x")
            ],
            pointer(),
            value(),
        )
            .prop_map(
                |(op, path, value)| json!({"op": op, "path": path, "from": "/a", "value": value}),
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_body_parses_as_a_patch_or_is_refused(body in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_patch(&body);
        }

        #[test]
        fn patches_apply_or_fail_and_never_nest_past_the_bound(ops in prop::collection::vec(op(), 0..12)) {
            let body = serde_json::to_vec(&ops).unwrap();
            let Ok(ops) = parse_patch(&body) else { return Ok(()); };
            let mut doc = json!({
                "id": "x", "traits": {"email": "a@example.com"}, "metadata_public": null,
                "credentials": {"password": {"config": {}}}
            });
            let applied = apply_patch(&mut doc, &ops);
            let depth = crate::untrusted::depth(&doc);
            if applied.is_ok() {
                prop_assert!(depth <= MAX_DEPTH + DOCUMENT_LEVELS);
            }
            // A refused operation leaves a document that is only dropped: bounded all the same.
            prop_assert!(depth <= 2 * (MAX_DEPTH + DOCUMENT_LEVELS) + 140);
        }
    }
}
