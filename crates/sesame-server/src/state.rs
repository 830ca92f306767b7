//! Application state shared by every handler: the services, the clock, and the resolved settings.

use crate::config::Config;
pub use sesame_core::clock::{Clock, FixedClock, SystemClock};
use sesame_core::cookie::CookieSealer;
use sesame_core::password::{Algorithm, Hasher, HasherConfig, PasswordPolicy};
use sesame_core::services::{
    CoreSettings, Deps, IdentityService, LoginService, RegistrationService, SessionService,
    SettingsService,
};
use sesame_core::store::Store;
use sesame_core::throttle::Throttle;
use sesame_core::whoami_cache::WhoamiCache;
use std::sync::Arc;

/// What handlers get.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The shared parts.
pub struct Inner {
    /// whoami, logout.
    pub sessions: SessionService,
    /// Login flows.
    pub login: LoginService,
    /// Registration flows.
    pub registration: RegistrationService,
    /// Settings flows.
    pub settings: SettingsService,
    /// Admin identities.
    pub identities: IdentityService,
    /// Shared dependencies (store, schemas, clock, settings).
    pub deps: Arc<Deps>,
    /// Session cookie codec.
    pub cookies: CookieSealer,
    /// `session.cookie.name`.
    pub cookie_name: String,
    /// Public base URL, ending in `/`.
    pub public_base_url: String,
    /// Admin base URL, ending in `/`.
    pub admin_base_url: String,
    /// Cookies, UI URLs and return URLs for browsers.
    pub browser: crate::browser::BrowserSettings,
    /// `serve.public.trusted_proxies`.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// `feature_flags.faster_session_extend`: the admin extend answers 204.
    pub faster_session_extend: bool,
    /// `feature_flags.cacheable_sessions`: whoami sends `Ory-Session-Cache-For`.
    pub cacheable_sessions: bool,
    /// `feature_flags.cacheable_sessions_max_age`: its cap (zero: none).
    pub cacheable_sessions_max_age: std::time::Duration,
    /// whoami's rendered identities (see `whoami_body`).
    pub identity_json: crate::whoami_body::IdentityJson,
    /// What the admin port's metrics endpoint serves.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The current time from the application clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.deps.clock.now()
    }
}

/// The hasher settings a configuration asks for.
pub fn hasher_config(config: &Config) -> Result<HasherConfig, String> {
    let h = &config.hashers;
    let memory_kib = u32::try_from(h.argon2.memory.0 / 1024)
        .map_err(|_| "argon2.memory is too large".to_owned())?;
    let cfg = HasherConfig {
        algorithm: h.algorithm,
        argon2_memory_kib: memory_kib,
        argon2_iterations: h.argon2.iterations,
        argon2_parallelism: h.argon2.parallelism,
        argon2_salt_length: h.argon2.salt_length,
        argon2_key_length: h.argon2.key_length,
        bcrypt_cost: h.bcrypt.cost,
    };
    // Validate without paying for a dummy hash twice: parameters only.
    argon2::Params::new(
        cfg.argon2_memory_kib,
        cfg.argon2_iterations,
        cfg.argon2_parallelism,
        Some(cfg.argon2_key_length),
    )
    .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
    if !(4..=31).contains(&cfg.bcrypt_cost) {
        return Err(format!("bcrypt.cost {} is outside 4..=31", cfg.bcrypt_cost));
    }
    Ok(cfg)
}

/// The host name of a URL (no port): the default TOTP issuer, as in Kratos.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "sesame".to_owned())
}

/// The settings methods configured with the `revoke_active_sessions` hook.
fn revoke_sessions_after(config: &Config) -> Vec<String> {
    let after = &config.selfservice.flows.settings.after;
    [
        ("password", &after.password.hooks),
        ("totp", &after.totp.hooks),
        ("lookup_secret", &after.lookup_secret.hooks),
    ]
    .into_iter()
    .filter(|(_, hooks)| hooks.iter().any(|h| h.hook == "revoke_active_sessions"))
    .map(|(method, _)| method.to_owned())
    .collect()
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// Builds the state from a loaded configuration, an opened store (with whoami's cache in front
/// when it is on) and the resolved base URLs.
pub fn build(
    config: &Config,
    schemas: sesame_core::schema::SchemaRegistry,
    store: Arc<dyn Store>,
    whoami_cache: Option<Arc<WhoamiCache>>,
    clock: Arc<dyn Clock>,
    public_base_url: &str,
    admin_base_url: &str,
) -> Result<AppState, String> {
    let hasher = Hasher::new(hasher_config(config)?)?;
    let pw = &config.selfservice.methods.password.config;
    let settings = CoreSettings {
        public_base_url: with_slash(public_base_url),
        session_lifespan: config.session.lifespan.chrono(),
        required_aal: config.session.whoami.required_aal,
        earliest_possible_extend: config
            .session
            .earliest_possible_extend
            .unwrap_or(config.session.lifespan)
            .chrono(),
        login_lifespan: config.selfservice.flows.login.lifespan.chrono(),
        registration_lifespan: config.selfservice.flows.registration.lifespan.chrono(),
        password_enabled: config.selfservice.methods.password.enabled,
        password_policy: PasswordPolicy {
            min_length: pw.min_password_length,
            max_length: (config.hashers.algorithm == Algorithm::Bcrypt).then_some(72),
            identifier_similarity_check: pw.identifier_similarity_check_enabled,
        },
        registration_session_hook: config
            .selfservice
            .flows
            .registration
            .after
            .password
            .hooks
            .iter()
            .any(|h| h.hook == "session"),
        settings_lifespan: config.selfservice.flows.settings.lifespan.chrono(),
        privileged_session_max_age: config
            .selfservice
            .flows
            .settings
            .privileged_session_max_age
            .chrono(),
        settings_required_aal: config.selfservice.flows.settings.required_aal,
        profile_enabled: config.selfservice.methods.profile.enabled,
        totp_enabled: config.selfservice.methods.totp.enabled,
        totp_issuer: config
            .selfservice
            .methods
            .totp
            .config
            .issuer
            .clone()
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| host_of(public_base_url)),
        lookup_secret_enabled: config.selfservice.methods.lookup_secret.enabled,
        revoke_sessions_after: revoke_sessions_after(config),
    };
    let throttle = Throttle::new(config.security.brute_force.policy(), store.clone());
    let metrics = crate::metrics::Metrics::new(
        store.clone(),
        hasher.clone(),
        throttle.clone(),
        whoami_cache,
    );
    let deps = Arc::new(Deps {
        store,
        clock,
        schemas: Arc::new(schemas),
        hasher,
        settings,
        throttle,
    });
    let secrets = if !config.secrets.cookie.is_empty() {
        config.secrets.cookie.clone()
    } else if !config.secrets.default.is_empty() {
        config.secrets.default.clone()
    } else {
        // Kratos does the same: without a configured secret, cookies live as long as the process.
        vec![sesame_core::SessionToken::generate().expose().to_owned()]
    };
    Ok(AppState(Arc::new(Inner {
        sessions: SessionService::new(deps.clone()),
        login: LoginService::new(deps.clone()),
        registration: RegistrationService::new(deps.clone()),
        settings: SettingsService::new(deps.clone()),
        identities: IdentityService::new(deps.clone()),
        cookies: CookieSealer::new(&secrets, &config.session.cookie.name),
        cookie_name: config.session.cookie.name.clone(),
        public_base_url: with_slash(public_base_url),
        admin_base_url: with_slash(admin_base_url),
        browser: crate::browser::BrowserSettings::new(config, &with_slash(public_base_url)),
        trusted_proxies: crate::client_ip::TrustedProxies::parse(
            &config.serve.public.trusted_proxies,
        )?,
        faster_session_extend: config.feature_flags.faster_session_extend,
        cacheable_sessions: config.feature_flags.cacheable_sessions,
        cacheable_sessions_max_age: config.feature_flags.cacheable_sessions_max_age.0,
        identity_json: crate::whoami_body::IdentityJson::new(
            crate::whoami_body::IDENTITY_JSON_ENTRIES,
        ),
        metrics: Arc::new(metrics),
        deps,
    })))
}
