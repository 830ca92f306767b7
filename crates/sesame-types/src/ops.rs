//! Small bodies: health, version, logout.

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

/// `createBrowserLogoutFlow`'s answer: the URL (and token) that ends the browser's session.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutFlow {
    /// `GET` it (or send the browser to it) to log out.
    pub logout_url: String,
    /// The token inside `logout_url`, for `updateLogoutFlow`.
    pub logout_token: String,
}

impl std::fmt::Debug for LogoutFlow {
    // The token ends the session: it is not printed, nor the URL that carries it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutFlow")
            .field("logout_url", &"***")
            .field("logout_token", &"***")
            .finish()
    }
}
