//! Loading: defaults → YAML file (`-c`) → environment variables with Kratos's names
//! (`SERVE_PUBLIC_PORT`, `SESSION_LIFESPAN`, `SECRETS_COOKIE` …) → `--dev`. Then every value that
//! can be wrong is checked, and the first error names its key.

use super::Config;
use serde_json::{Map, Value};
use sesame_core::schema::{IdentitySchema, SchemaRegistry, load_document};
use sesame_store::Dsn;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read or parsed.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value is invalid.
    #[error("invalid config value for `{key}`: {message}")]
    Invalid {
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// A checked configuration with what was derived from it.
#[derive(Debug)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: Config,
    /// The parsed DSN.
    pub dsn: Dsn,
    /// The loaded identity schemas.
    pub schemas: SchemaRegistry,
    /// Warnings to log once logging is up (unknown keys, ignored features).
    pub warnings: Vec<String>,
    /// The public port's CORS policy when `serve.public.cors.enabled` (checked even when off).
    pub cors: Option<Arc<crate::cors::CorsPolicy>>,
}

/// Loads the configuration. `env` answers environment lookups (the process environment in `main`,
/// a map in tests).
pub fn load(
    file: Option<&Path>,
    dev: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadedConfig, ConfigError> {
    let defaults = serde_json::to_value(Config::default())
        .map_err(|e| invalid("(defaults)", e.to_string()))?;
    let mut merged = defaults.clone();
    let mut base_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        let file_value = serde_json::to_value(&yaml).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if !file_value.is_null() {
            merge(&mut merged, file_value);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            base_dir = dir.to_owned();
        }
    }
    apply_env(&mut merged, &defaults, &mut Vec::new(), env)?;

    let mut warnings = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path<'_>| {
        warnings.push(format!(
            "unknown or unsupported config key `{path}` is ignored"
        ));
    };
    let de = serde_ignored::Deserializer::new(&merged, &mut on_unknown);
    let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        invalid(
            if key == "." { "(root)".to_owned() } else { key },
            e.inner().to_string(),
        )
    })?;
    config.dev |= dev;

    let dsn = Dsn::parse(&config.dsn).map_err(|m| invalid("dsn", m))?;
    let schemas = load_schemas(&config, &base_dir)?;
    check(&config, &mut warnings)?;
    let cors = crate::cors::CorsPolicy::new(&config.serve.public.cors)
        .map_err(|e| invalid(e.key, e.message))?;
    let cors = config.serve.public.cors.enabled.then(|| Arc::new(cors));
    if cors.as_ref().is_some_and(|c| c.allows_any_origin())
        && config.serve.public.cors.allow_credentials
    {
        warnings.push(
            "serve.public.cors.allowed_origins allows every origin with credentials: any web site a signed-in visitor opens can read their session; list your apps' origins"
                .into(),
        );
    }
    Ok(LoadedConfig {
        config,
        dsn,
        schemas,
        warnings,
        cors,
    })
}

fn load_schemas(config: &Config, base_dir: &Path) -> Result<SchemaRegistry, ConfigError> {
    if config.identity.schemas.is_empty() {
        return Err(invalid(
            "identity.schemas",
            "at least one schema is required",
        ));
    }
    let mut schemas = Vec::new();
    for (i, s) in config.identity.schemas.iter().enumerate() {
        if s.id.is_empty() {
            return Err(invalid(
                format!("identity.schemas.{i}.id"),
                "must not be empty",
            ));
        }
        let key = format!("identity.schemas.{i}.url");
        let raw = load_document(&s.url, base_dir).map_err(|m| invalid(&key, m))?;
        schemas.push(IdentitySchema::new(&s.id, &s.url, raw).map_err(|m| invalid(&key, m))?);
    }
    SchemaRegistry::new(schemas, &config.identity.default_schema_id)
        .map_err(|m| invalid("identity.default_schema_id", m))
}

fn check(config: &Config, warnings: &mut Vec<String>) -> Result<(), ConfigError> {
    for (key, base_url) in [
        ("serve.public.base_url", &config.serve.public.base_url),
        ("serve.admin.base_url", &config.serve.admin.base_url),
    ] {
        if let Some(url) = base_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| invalid(key, format!("{url:?} is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid(key, format!("{url:?} must be an http(s) URL")));
            }
        }
    }
    if let Some(url) = &config.selfservice.default_browser_return_url {
        url::Url::parse(url)
            .map_err(|e| invalid("selfservice.default_browser_return_url", e.to_string()))?;
    }
    for (key, secrets) in [
        ("secrets.default", &config.secrets.default),
        ("secrets.cookie", &config.secrets.cookie),
    ] {
        if let Some(short) = secrets.iter().find(|s| s.len() < 16) {
            return Err(invalid(
                key,
                format!(
                    "every secret needs at least 16 characters, one has {}",
                    short.len()
                ),
            ));
        }
    }
    for (port, connections) in [
        ("public", config.serve.public.endpoint(false).connections()),
        ("admin", config.serve.admin.connections()),
    ] {
        if connections.request_header_timeout.is_zero() {
            return Err(invalid(
                format!("serve.{port}.request_header_timeout"),
                "must be greater than zero",
            ));
        }
        if connections.idle_timeout.is_zero() {
            return Err(invalid(
                format!("serve.{port}.idle_timeout"),
                "must be greater than zero",
            ));
        }
        if connections.max_connections == 0 {
            return Err(invalid(
                format!("serve.{port}.max_connections"),
                "must be greater than zero",
            ));
        }
    }
    crate::client_ip::TrustedProxies::parse(&config.serve.public.trusted_proxies)
        .map_err(|m| invalid("serve.public.trusted_proxies", m))?;
    if config.session.lifespan.0.is_zero() {
        return Err(invalid("session.lifespan", "must be greater than zero"));
    }
    let cache = &config.session.whoami.cache;
    if cache.ttl.0.is_zero() {
        return Err(invalid(
            "session.whoami.cache.ttl",
            "must be greater than zero",
        ));
    }
    if cache.max_entries == 0 {
        return Err(invalid(
            "session.whoami.cache.max_entries",
            "must be at least 1",
        ));
    }
    if config.session.cookie.name.is_empty()
        || !config
            .session
            .cookie
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(invalid(
            "session.cookie.name",
            "must be a non-empty token of letters, digits, `_`, `-` or `.`",
        ));
    }
    for hook in &config.selfservice.flows.registration.after.password.hooks {
        if hook.hook != "session" {
            warnings.push(format!(
                "registration hook `{}` (selfservice.flows.registration.after.password.hooks) is not supported yet and is ignored",
                hook.hook
            ));
        }
    }
    let after = &config.selfservice.flows.settings.after;
    for (method, hooks) in [
        ("profile", &after.profile.hooks),
        ("password", &after.password.hooks),
        ("totp", &after.totp.hooks),
        ("lookup_secret", &after.lookup_secret.hooks),
        ("", &after.hooks),
    ] {
        for hook in hooks {
            let key = if method.is_empty() {
                "selfservice.flows.settings.after.hooks".to_owned()
            } else {
                format!("selfservice.flows.settings.after.{method}.hooks")
            };
            if hook.hook == "revoke_active_sessions" && !method.is_empty() && method != "profile" {
                continue;
            }
            warnings.push(format!(
                "settings hook `{}` ({key}) is not supported there and is ignored",
                hook.hook
            ));
        }
    }
    if config
        .selfservice
        .flows
        .settings
        .privileged_session_max_age
        .0
        .is_zero()
    {
        warnings.push(
            "selfservice.flows.settings.privileged_session_max_age is 0: as in Kratos, passwords can then never be changed in the settings flow, and second factors always"
                .into(),
        );
    }
    for (key, url) in [
        (
            "selfservice.flows.settings.ui_url",
            &config.selfservice.flows.settings.ui_url,
        ),
        (
            "selfservice.flows.settings.after.default_browser_return_url",
            &after.default_browser_return_url,
        ),
    ] {
        if let Some(url) = url {
            url::Url::parse(url).map_err(|e| invalid(key, format!("{url:?}: {e}")))?;
        }
    }
    if config.log.leak_sensitive_values {
        warnings.push(
            "log.leak_sensitive_values: true is accepted and ignored: Sesame never logs secrets, passwords, tokens or cookies"
                .into(),
        );
    }
    if config
        .selfservice
        .methods
        .password
        .config
        .haveibeenpwned_enabled
    {
        warnings.push(
            "selfservice.methods.password.config.haveibeenpwned_enabled: breached-password lookup is not supported and is off"
                .into(),
        );
    }
    crate::state::hasher_config(config).map_err(|m| invalid("hashers", m))?;
    config
        .security
        .brute_force
        .check()
        .map_err(|(key, m)| invalid(key, m))?;
    Ok(())
}

/// Deep-merges `over` into `base`: objects key by key, anything else replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Applies environment overrides for every key the defaults know: the dotted path upper-cased with
/// `_` (`serve.public.port` → `SERVE_PUBLIC_PORT`). Lists take CSV, a JSON array, or `NAME_0`, `NAME_1` ….
fn apply_env(
    target: &mut Value,
    defaults: &Value,
    path: &mut Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let name = path.join("_").to_uppercase();
    if !path.is_empty() {
        if let Some(raw) = env(&name) {
            *target = env_value(&raw, defaults)
                .map_err(|m| invalid(path.join("."), format!("from {name}: {m}")))?;
            return Ok(());
        }
        if defaults.is_array() {
            let items: Vec<Value> = (0..)
                .map_while(|i| env(&format!("{name}_{i}")))
                .map(env_scalar)
                .collect();
            if !items.is_empty() {
                *target = Value::Array(items);
                return Ok(());
            }
        }
    }
    if let Value::Object(defaults) = defaults {
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        for (key, default) in defaults {
            path.push(key.clone());
            if let Value::Object(t) = target {
                let entry = t.entry(key.clone()).or_insert(Value::Null);
                apply_env(entry, default, path, env)?;
                if entry.is_null() && !default.is_null() {
                    *entry = default.clone();
                }
            }
            path.pop();
        }
    }
    Ok(())
}

fn env_scalar(raw: String) -> Value {
    match serde_json::from_str::<Value>(&raw) {
        Ok(v @ (Value::Bool(_) | Value::Number(_) | Value::Object(_))) => v,
        _ => Value::String(raw),
    }
}

fn env_value(raw: &str, default: &Value) -> Result<Value, String> {
    Ok(match default {
        Value::Bool(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(format!("{raw:?} is not a boolean")),
        },
        Value::Number(_) => serde_json::from_str::<Value>(raw.trim())
            .ok()
            .filter(Value::is_number)
            .ok_or_else(|| format!("{raw:?} is not a number"))?,
        Value::Array(_) => match serde_json::from_str::<Value>(raw) {
            Ok(v @ Value::Array(_)) => v,
            _ => Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| env_scalar(s.to_owned()))
                    .collect(),
            ),
        },
        Value::Object(_) => {
            serde_json::from_str::<Value>(raw).map_err(|e| format!("not a JSON object: {e}"))?
        }
        // A key without a default (`cookies.secure`, `serve.public.base_url` …) takes JSON
        // scalars, lists and objects as such and anything else as text.
        Value::Null => match serde_json::from_str::<Value>(raw.trim()) {
            Ok(v) if !v.is_string() && !v.is_null() => v,
            _ => Value::String(raw.to_owned()),
        },
        _ => Value::String(raw.to_owned()),
    })
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
