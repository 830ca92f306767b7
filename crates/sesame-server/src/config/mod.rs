//! Configuration in Kratos's format: the typed structure, with the default of every key.
//! Layers (defaults → YAML file → environment) and validation live in [`load`].

pub mod load;

use serde::{Deserialize, Serialize};
use sesame_core::aal::RequiredAal;
use sesame_core::duration::GoDuration;
use sesame_core::password::Algorithm;
use std::time::Duration;

pub use load::{ConfigError, LoadedConfig, load};

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
            version: None,
        }
    }
}

/// `serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Serve {
    /// `serve.public`: host default `0.0.0.0`, port default 4433, CORS off.
    pub public: PublicEndpoint,
    /// `serve.admin`: host default `127.0.0.1` (Kratos: `0.0.0.0`; the admin API has no auth), port 4434.
    pub admin: ServeEndpoint,
}

impl Default for Serve {
    fn default() -> Self {
        Self {
            public: PublicEndpoint::default(),
            admin: ServeEndpoint {
                host: "127.0.0.1".into(),
                port: 4434,
                base_url: None,
            },
        }
    }
}

/// One listener.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ServeEndpoint {
    /// `host`: interface to bind.
    pub host: String,
    /// `port`: 0 picks a free port.
    pub port: u16,
    /// `base_url`: the URL clients reach this port at; default `http(s)://<host>:<port>/`.
    pub base_url: Option<String>,
}

/// `serve.public`: a listener plus CORS, which only the public port has in Kratos (so
/// `serve.admin.cors` is warned about as an unknown key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PublicEndpoint {
    /// `host`: interface to bind; default `0.0.0.0`.
    pub host: String,
    /// `port`: default 4433; 0 picks a free port.
    pub port: u16,
    /// `base_url`: the URL clients reach this port at; default `http(s)://<host>:<port>/`.
    pub base_url: Option<String>,
    /// `cors`: off by default.
    pub cors: Cors,
}

impl Default for PublicEndpoint {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".into(),
            port: 4433,
            base_url: None,
            cors: Cors::default(),
        }
    }
}

impl PublicEndpoint {
    /// The listener part (host, port, base URL).
    pub fn endpoint(&self) -> ServeEndpoint {
        ServeEndpoint {
            host: self.host.clone(),
            port: self.port,
            base_url: self.base_url.clone(),
        }
    }
}

/// `serve.public.cors`, with Kratos's defaults (its config schema and `rs/cors`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Cors {
    /// `enabled`: default false; then no CORS headers are sent and `OPTIONS` is routed like any method.
    pub enabled: bool,
    /// `allowed_origins`: default `["*"]` (every origin). Exact origins (`https://app.example.com`,
    /// compared without case) or one `*` bounded by a registrable domain (`https://*.example.com`).
    /// The request's `Origin` is echoed, never `*`.
    pub allowed_origins: Vec<String>,
    /// `allowed_methods`: default `POST`, `GET`, `PUT`, `PATCH`, `DELETE`.
    pub allowed_methods: Vec<String>,
    /// `allowed_headers`: default `Authorization`, `Content-Type`, `Max-Age`, `X-Session-Token`,
    /// `X-XSRF-TOKEN`, `X-CSRF-TOKEN` (`Origin` is always allowed; `*` allows any).
    pub allowed_headers: Vec<String>,
    /// `exposed_headers`: default `Content-Type`.
    pub exposed_headers: Vec<String>,
    /// `allow_credentials`: default true (`Access-Control-Allow-Credentials: true`).
    pub allow_credentials: bool,
    /// `max_age`: seconds a browser may cache a preflight answer; default 0 (no header).
    pub max_age: i64,
    /// `options_passthrough`: default false; true routes preflights after adding the headers
    /// instead of answering them with 204.
    pub options_passthrough: bool,
    /// `debug`: default false; true logs (at info) why a cross-origin request got no CORS headers.
    pub debug: bool,
}

impl Default for Cors {
    fn default() -> Self {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            enabled: false,
            allowed_origins: strings(&["*"]),
            allowed_methods: strings(&["POST", "GET", "PUT", "PATCH", "DELETE"]),
            allowed_headers: strings(&[
                "Authorization",
                "Content-Type",
                "Max-Age",
                "X-Session-Token",
                "X-XSRF-TOKEN",
                "X-CSRF-TOKEN",
            ]),
            exposed_headers: strings(&["Content-Type"]),
            allow_credentials: true,
            max_age: 0,
            options_passthrough: false,
            debug: false,
        }
    }
}

/// `secrets`.
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
    /// `session.whoami`.
    pub whoami: Whoami,
    /// `session.cookie`.
    pub cookie: SessionCookie,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            lifespan: hours(24),
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

/// `selfservice`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SelfService {
    /// `selfservice.default_browser_return_url`: where browsers go after login, registration and
    /// logout when no `return_to` applies; default the built-in welcome page `<public>/ui/welcome`.
    pub default_browser_return_url: Option<String>,
    /// `selfservice.allowed_return_urls`: where `return_to` may point; default none (`return_to`
    /// is then ignored, except for URLs under the public base URL).
    pub allowed_return_urls: Vec<String>,
    /// `selfservice.methods`.
    pub methods: Methods,
    /// `selfservice.flows`.
    pub flows: Flows,
}

/// `selfservice.methods`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Methods {
    /// `selfservice.methods.password`.
    pub password: PasswordMethod,
}

/// `selfservice.methods.password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordMethod {
    /// `enabled`: default true.
    pub enabled: bool,
    /// `config`.
    pub config: PasswordMethodConfig,
}

impl Default for PasswordMethod {
    fn default() -> Self {
        Self {
            enabled: true,
            config: PasswordMethodConfig::default(),
        }
    }
}

/// `selfservice.methods.password.config`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordMethodConfig {
    /// `min_password_length`: default 8 (bytes).
    pub min_password_length: usize,
    /// `identifier_similarity_check_enabled`: default true.
    pub identifier_similarity_check_enabled: bool,
    /// `haveibeenpwned_enabled`: accepted, but breached-password lookup needs the internet and is off.
    pub haveibeenpwned_enabled: bool,
}

impl Default for PasswordMethodConfig {
    fn default() -> Self {
        Self {
            min_password_length: 8,
            identifier_similarity_check_enabled: true,
            haveibeenpwned_enabled: false,
        }
    }
}

/// `selfservice.flows`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Flows {
    /// `selfservice.flows.login`.
    pub login: FlowConfig,
    /// `selfservice.flows.registration`.
    pub registration: RegistrationFlowConfig,
    /// `selfservice.flows.logout`.
    pub logout: LogoutFlowConfig,
    /// `selfservice.flows.error`.
    pub error: ErrorFlowConfig,
}

/// `selfservice.flows.logout`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LogoutFlowConfig {
    /// `selfservice.flows.logout.after`.
    pub after: ReturnUrl,
}

/// A `default_browser_return_url` holder.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ReturnUrl {
    /// `default_browser_return_url`: default `selfservice.default_browser_return_url`.
    pub default_browser_return_url: Option<String>,
}

/// `selfservice.flows.error`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ErrorFlowConfig {
    /// `ui_url`: where browsers see errors; default the built-in page `<public>/ui/error`.
    pub ui_url: Option<String>,
}

/// A flow's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowConfig {
    /// `lifespan`: default `1h`.
    pub lifespan: GoDuration,
    /// `ui_url`: where browsers are sent (browser flows).
    pub ui_url: Option<String>,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            lifespan: hours(1),
            ui_url: None,
        }
    }
}

/// `selfservice.flows.registration`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrationFlowConfig {
    /// `lifespan`: default `1h`.
    pub lifespan: GoDuration,
    /// `ui_url`.
    pub ui_url: Option<String>,
    /// `after`: hooks after a successful registration.
    pub after: RegistrationAfter,
}

impl Default for RegistrationFlowConfig {
    fn default() -> Self {
        Self {
            lifespan: hours(1),
            ui_url: None,
            after: RegistrationAfter::default(),
        }
    }
}

/// `selfservice.flows.registration.after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrationAfter {
    /// `after.password.hooks`: default `[{hook: session}]`, so signing up signs you in.
    pub password: HookList,
}

impl Default for RegistrationAfter {
    fn default() -> Self {
        Self {
            password: HookList {
                hooks: vec![Hook {
                    hook: "session".into(),
                }],
            },
        }
    }
}

/// A list of hooks.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct HookList {
    /// `hooks`.
    pub hooks: Vec<Hook>,
}

/// One hook.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Hook {
    /// `hook`: `session` (others are accepted with a warning).
    pub hook: String,
}

/// `hashers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Hashers {
    /// `hashers.algorithm`: `argon2` (default) or `bcrypt`.
    pub algorithm: Algorithm,
    /// `hashers.argon2`.
    pub argon2: Argon2Config,
    /// `hashers.bcrypt`.
    pub bcrypt: BcryptConfig,
}

impl Default for Hashers {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Argon2,
            argon2: Argon2Config::default(),
            bcrypt: BcryptConfig { cost: 12 },
        }
    }
}

/// `hashers.argon2`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Argon2Config {
    /// `memory`: bytes, or a size such as `19MiB`, `128MB`; default 19 MiB (19456 KiB).
    pub memory: ByteSize,
    /// `iterations`: default 2.
    pub iterations: u32,
    /// `parallelism`: default 1.
    pub parallelism: u32,
    /// `salt_length`: default 16.
    pub salt_length: usize,
    /// `key_length`: default 32.
    pub key_length: usize,
    /// `expected_duration`: accepted for compatibility; unknown users cost one real verification instead.
    pub expected_duration: Option<GoDuration>,
    /// `expected_deviation`: accepted for compatibility.
    pub expected_deviation: Option<GoDuration>,
    /// `dedicated_memory`: accepted for compatibility.
    pub dedicated_memory: Option<ByteSize>,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory: ByteSize(19456 * 1024),
            iterations: 2,
            parallelism: 1,
            salt_length: 16,
            key_length: 32,
            expected_duration: None,
            expected_deviation: None,
            dedicated_memory: None,
        }
    }
}

/// `hashers.bcrypt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BcryptConfig {
    /// `cost`: default 12, 4 to 31.
    pub cost: u32,
}

impl Default for BcryptConfig {
    fn default() -> Self {
        Self { cost: 12 }
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

/// A size in bytes, written as a number or with a unit (`KB`, `MB`, `GB`, `KiB`, `MiB`, `GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `19MiB`, `128MB`, `1024`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid size {s:?} (expected e.g. 19MiB or 128MB)"))?;
        let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "KB" | "K" => 1000,
            "KIB" => 1024,
            "MB" | "M" => 1000 * 1000,
            "MIB" => 1024 * 1024,
            "GB" | "G" => 1000 * 1000 * 1000,
            "GIB" => 1024 * 1024 * 1024,
            _ => return Err(format!("invalid size {s:?} (expected e.g. 19MiB or 128MB)")),
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| format!("size {s:?} is too large"))
    }
}

impl Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => ByteSize::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}
