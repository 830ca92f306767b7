//! JSON Patch (`PATCH /admin/identities/{id}`) and the batch body and answer of
//! `PATCH /admin/identities`.

use crate::error::GenericError;
use crate::identity::CreateIdentityBody;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// An RFC 6902 operation name. Kratos (and Sesame) apply `add`, `remove` and `replace` and refuse
/// the others with 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonPatchOp {
    /// Adds a value (creating missing parent objects).
    Add,
    /// Removes the value.
    Remove,
    /// Replaces the value (adds it when a member is missing).
    Replace,
    /// Moves a value (refused).
    Move,
    /// Copies a value (refused).
    Copy,
    /// Tests a value (refused).
    Test,
}

/// One operation of a JSON Patch document (`jsonPatch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonPatch {
    /// The operation.
    pub op: JsonPatchOp,
    /// A JSON Pointer into the identity's admin JSON, e.g. `/traits/email`.
    pub path: String,
    /// The value of `add`, `replace` and `test`; `Some(Value::Null)` sends an explicit `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
    /// The source of `move` and `copy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A member that is present is `Some`, even when it is `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl JsonPatch {
    /// `{"op":"add","path":…,"value":…}`.
    pub fn add(path: impl Into<String>, value: Value) -> Self {
        Self::with_value(JsonPatchOp::Add, path, value)
    }

    /// `{"op":"replace","path":…,"value":…}`.
    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        Self::with_value(JsonPatchOp::Replace, path, value)
    }

    /// `{"op":"remove","path":…}`.
    pub fn remove(path: impl Into<String>) -> Self {
        Self {
            op: JsonPatchOp::Remove,
            path: path.into(),
            value: None,
            from: None,
        }
    }

    fn with_value(op: JsonPatchOp, path: impl Into<String>, value: Value) -> Self {
        Self {
            op,
            path: path.into(),
            value: Some(value),
            from: None,
        }
    }
}

/// One item of a batch (`identityPatch`): an identity to create, and an id to find its result by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IdentityPatch {
    /// The identity to create, as `POST /admin/identities` takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<CreateIdentityBody>,
    /// Echoed in this item's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_id: Option<Uuid>,
}

/// Body of `PATCH /admin/identities` (`patchIdentitiesBody`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchIdentitiesBody {
    /// The items, at most 1000 (200 with plaintext passwords).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub identities: Vec<IdentityPatch>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IdentityPatch>, D::Error> {
    Option::<Vec<IdentityPatch>>::deserialize(d).map(Option::unwrap_or_default)
}

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchPatchAction {
    /// The identity was created.
    Create,
    /// The item failed; see `error`.
    Error,
}

/// The result of one item (`identityPatchResponse`), in the order of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityPatchResponse {
    /// `create` or `error`.
    pub action: BatchPatchAction,
    /// The new identity's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Uuid>,
    /// The item's `patch_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_id: Option<Uuid>,
    /// Why the item failed (the inner object of an error envelope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<GenericError>,
}

/// Answer of `PATCH /admin/identities` (`batchPatchIdentitiesResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BatchPatchIdentitiesResponse {
    /// One result per item.
    pub identities: Vec<IdentityPatchResponse>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_explicit_null_value_survives_a_round_trip() {
        let op = JsonPatch::replace("/metadata_public", Value::Null);
        let wire = serde_json::to_value(&op).unwrap();
        assert_eq!(
            wire,
            json!({"op": "replace", "path": "/metadata_public", "value": null})
        );
        assert_eq!(serde_json::from_value::<JsonPatch>(wire).unwrap(), op);
        let remove: JsonPatch =
            serde_json::from_value(json!({"op": "remove", "path": "/x"})).unwrap();
        assert_eq!(remove.value, None);
    }

    #[test]
    fn a_null_batch_is_an_empty_one() {
        let body: PatchIdentitiesBody =
            serde_json::from_value(json!({"identities": null})).unwrap();
        assert!(body.identities.is_empty());
    }
}
