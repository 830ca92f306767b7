//! Configuration in Kratos's format: the typed structure, with the default of every key.
//! Layers (defaults → YAML file → environment) and validation live in [`load`].

mod hashers;
pub mod load;
mod security;
mod selfservice;
mod serve;

use serde::{Deserialize, Serialize};
use sesame_core::aal::RequiredAal;
use sesame_core::duration::GoDuration;
use std::time::Duration;

pub use hashers::*;
pub use load::{ConfigError, LoadedConfig, load};
pub use security::*;
pub use selfservice::*;
pub use serve::*;

fn hours(h: u64) -> GoDuration {
    GoDuration(Duration::from_secs(h * 3600))
}

/// The whole configuration (`kratos.yml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `dsn`: `sqlite://PATH` (default `sqlite://sesame.sqlite`), `memory`, or `postgres://…`.
    pub dsn: String,
    /// `dev`: plain-HTTP defaults and non-Secure cookies. Default false; `--dev` sets it.
    pub dev: bool,
    /// `serve`.
    pub serve: Serve,
    /// `secrets`.
    pub secrets: Secrets,
    /// `session`.
    pub session: SessionConfig,
    /// `identity`.
    pub identity: IdentityConfig,
    /// `selfservice`.
    pub selfservice: SelfService,
    /// `hashers`.
    pub hashers: Hashers,
    /// `log`.
    pub log: Log,
    /// `cookies`.
    pub cookies: Cookies,
    /// `feature_flags`.
    pub feature_flags: FeatureFlags,
    /// `security`: Sesame's limiter of failed attempts (`security.brute_force`), on by default.
    pub security: Security,
    /// `version` (Kratos writes its config version here); accepted and ignored.
    #[serde(skip_serializing)]
    pub version: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dsn: "sqlite://sesame.sqlite".into(),
            dev: false,
            serve: Serve::default(),
            secrets: Secrets::default(),
            session: SessionConfig::default(),
            identity: IdentityConfig::default(),
            selfservice: SelfService::default(),
            hashers: Hashers::default(),
            log: Log::default(),
            cookies: Cookies::default(),
            feature_flags: FeatureFlags::default(),
            security: Security::default(),
            version: None,
        }
    }
}

/// `secrets`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Secrets {
    /// `secrets.default`: fallback for every other secret; random per process when unset.
    pub default: Vec<String>,
    /// `secrets.cookie`: session cookie keys, first one current (default: `secrets.default`).
    pub cookie: Vec<String>,
}

/// `session`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// `session.lifespan`: default `24h`.
    pub lifespan: GoDuration,
    /// `session.earliest_possible_extend`: `PATCH /admin/sessions/{id}/extend` changes nothing
    /// while the session has more than this left; default `session.lifespan` (always extends).
    pub earliest_possible_extend: Option<GoDuration>,
    /// `session.whoami`.
    pub whoami: Whoami,
    /// `session.cookie`.
    pub cookie: SessionCookie,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            lifespan: hours(24),
            earliest_possible_extend: None,
            whoami: Whoami::default(),
            cookie: SessionCookie::default(),
        }
    }
}

/// `session.cookie`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionCookie {
    /// `session.cookie.name`: default `ory_kratos_session`.
    pub name: String,
    /// `session.cookie.domain`: default `cookies.domain` (none: host-only).
    pub domain: Option<String>,
    /// `session.cookie.path`: default `cookies.path`.
    pub path: Option<String>,
    /// `session.cookie.same_site`: default `cookies.same_site`.
    pub same_site: Option<SameSite>,
    /// `session.cookie.secure`: default `cookies.secure`.
    pub secure: Option<bool>,
    /// `session.cookie.persistent`: default true (`Max-Age` until the session expires).
    pub persistent: bool,
}

impl Default for SessionCookie {
    fn default() -> Self {
        Self {
            name: "ory_kratos_session".into(),
            domain: None,
            path: None,
            same_site: None,
            secure: None,
            persistent: true,
        }
    }
}

/// `feature_flags`: the ones Sesame implements (Kratos's others are warned about as unknown keys).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FeatureFlags {
    /// `feature_flags.faster_session_extend`: the admin extend answers 204 without a body instead
    /// of 200 with the session; default false.
    pub faster_session_extend: bool,
    /// `feature_flags.cacheable_sessions`: whoami tells caching proxies how long they may keep its
    /// answer (`Ory-Session-Cache-For`, spec §1.5 and §1.8); default false.
    pub cacheable_sessions: bool,
    /// `feature_flags.cacheable_sessions_max_age`: caps that time when greater than zero; default
    /// `0s` (no cap: until the session expires).
    pub cacheable_sessions_max_age: GoDuration,
}

/// `cookies`: defaults for the session and anti-CSRF cookies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Cookies {
    /// `cookies.domain`: default none (host-only cookies).
    pub domain: Option<String>,
    /// `cookies.path`: default `/`.
    pub path: String,
    /// `cookies.same_site`: `Lax` (default), `Strict` or `None`.
    pub same_site: SameSite,
    /// `cookies.secure`: default true unless `--dev`.
    pub secure: Option<bool>,
}

impl Default for Cookies {
    fn default() -> Self {
        Self {
            domain: None,
            path: "/".into(),
            same_site: SameSite::Lax,
            secure: None,
        }
    }
}

/// A cookie's `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites.
    Lax,
    /// Never sent from other sites.
    Strict,
    /// Always sent (requires `Secure`).
    None,
}

/// `session.whoami`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Whoami {
    /// `session.whoami.required_aal`: `aal1` or `highest_available` (default).
    pub required_aal: RequiredAal,
    /// `session.whoami.cache`: Sesame's own in-process cache of whoami lookups; default off.
    pub cache: WhoamiCacheConfig,
}

/// `session.whoami.cache` (Sesame's own; Kratos has no such cache).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WhoamiCacheConfig {
    /// `session.whoami.cache.enabled`: default false.
    pub enabled: bool,
    /// `session.whoami.cache.ttl`: the longest an answer is reused; default `1m`. Revocations,
    /// logouts and identity changes drop answers at once whatever the ttl.
    pub ttl: GoDuration,
    /// `session.whoami.cache.max_entries`: default 10000 (about 5 KB each with the rendered answer
    /// kept, so ≈ 50 MB when full); the oldest answers make room.
    pub max_entries: usize,
}

impl Default for WhoamiCacheConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ttl: GoDuration(Duration::from_secs(60)),
            max_entries: 10_000,
        }
    }
}

/// `identity`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityConfig {
    /// `identity.default_schema_id`: default `default`.
    pub default_schema_id: String,
    /// `identity.schemas`: default the shipped email + password schema.
    pub schemas: Vec<SchemaConfig>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            default_schema_id: "default".into(),
            schemas: vec![SchemaConfig::shipped()],
        }
    }
}

/// One `identity.schemas` entry.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SchemaConfig {
    /// `id`.
    pub id: String,
    /// `url`: `file://PATH` (relative to the config file) or `base64://…`.
    pub url: String,
}

/// The email + password schema shipped in `config/identity.schema.json`.
pub const SHIPPED_SCHEMA: &str = include_str!("../../../../config/identity.schema.json");

impl SchemaConfig {
    fn shipped() -> Self {
        use base64::Engine;
        Self {
            id: "default".into(),
            url: format!(
                "base64://{}",
                base64::engine::general_purpose::STANDARD.encode(SHIPPED_SCHEMA)
            ),
        }
    }
}

/// `log`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Log {
    /// `log.level`: `trace`, `debug`, `info` (default), `warn`, `error`.
    pub level: LogLevel,
    /// `log.format`: `text` (default) or `json`.
    pub format: LogFormat,
    /// `log.leak_sensitive_values`: accepted and ignored; Sesame never logs secrets.
    pub leak_sensitive_values: bool,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            format: LogFormat::Text,
            leak_sensitive_values: false,
        }
    }
}

/// Log level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging.
    Debug,
    /// Normal.
    Info,
    /// Warnings.
    Warn,
    /// Errors only.
    Error,
}

/// Log format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
