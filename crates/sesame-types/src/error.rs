//! The herodot error envelope: `{"error":{id, code, status, request, reason, details, message}}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The inner error object, fields in herodot's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GenericError {
    /// Machine-readable id, e.g. `session_inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// HTTP reason phrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The request's `X-Request-ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Extra key/values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
    /// Short message, always present.
    #[serde(default)]
    pub message: String,
}

/// `{"error": {...}}` plus the top-level fields some errors add (`redirect_browser_to`, `use_flow_id` …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: GenericError,
    /// Top-level extras of self-rendering errors.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
