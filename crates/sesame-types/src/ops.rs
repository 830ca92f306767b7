//! Small bodies: health, version, native logout.

use serde::{Deserialize, Serialize};

/// `{"status":"ok"}` from `/health/alive` and `/health/ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthStatus {
    /// Always `ok` on success.
    pub status: String,
}

/// `{"version":"…"}` from `/admin/version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// The build version.
    pub version: String,
}

/// Body of `DELETE /self-service/logout/api`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformNativeLogoutBody {
    /// The session token to revoke.
    pub session_token: String,
}

impl std::fmt::Debug for PerformNativeLogoutBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformNativeLogoutBody")
            .field("session_token", &"***")
            .finish()
    }
}
