//! `selfservice`: methods, flows, their UI URLs, lifespans and hooks.

use super::hours;
use serde::{Deserialize, Serialize};
use sesame_core::aal::RequiredAal;
use sesame_core::duration::GoDuration;

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
    /// `selfservice.methods.profile`: editing traits in the settings flow.
    pub profile: EnabledMethod,
    /// `selfservice.methods.totp`: authenticator apps as a second factor.
    pub totp: TotpMethod,
    /// `selfservice.methods.lookup_secret`: backup recovery codes as a second factor.
    pub lookup_secret: DisabledMethod,
}

/// A method that is on unless turned off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EnabledMethod {
    /// `enabled`: default true.
    pub enabled: bool,
}

impl Default for EnabledMethod {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// A method that is off unless turned on.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DisabledMethod {
    /// `enabled`: default false.
    pub enabled: bool,
}

/// `selfservice.methods.totp`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TotpMethod {
    /// `enabled`: default false.
    pub enabled: bool,
    /// `config`.
    pub config: TotpConfig,
}

/// `selfservice.methods.totp.config`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TotpConfig {
    /// `issuer`: the name authenticator apps show; default the public base URL's host name.
    pub issuer: Option<String>,
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
    /// `selfservice.flows.settings`.
    pub settings: SettingsFlowConfig,
    /// `selfservice.flows.logout`.
    pub logout: LogoutFlowConfig,
    /// `selfservice.flows.error`.
    pub error: ErrorFlowConfig,
}

/// `selfservice.flows.settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsFlowConfig {
    /// `lifespan`: default `1h`.
    pub lifespan: GoDuration,
    /// `ui_url`: where browsers manage their account; default the built-in page
    /// `<public>/ui/settings`.
    pub ui_url: Option<String>,
    /// `privileged_session_max_age`: how recently the session must have signed in to change
    /// credentials; default `1h`.
    pub privileged_session_max_age: GoDuration,
    /// `required_aal`: `aal1` or `highest_available` (default).
    pub required_aal: RequiredAal,
    /// `after`: where browsers go and which hooks run after a successful update.
    pub after: SettingsAfter,
}

impl Default for SettingsFlowConfig {
    fn default() -> Self {
        Self {
            lifespan: hours(1),
            ui_url: None,
            privileged_session_max_age: hours(1),
            required_aal: RequiredAal::HighestAvailable,
            after: SettingsAfter::default(),
        }
    }
}

/// `selfservice.flows.settings.after`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SettingsAfter {
    /// `default_browser_return_url`: default the settings UI showing the flow.
    pub default_browser_return_url: Option<String>,
    /// `hooks`: used when the method has none.
    pub hooks: Vec<Hook>,
    /// `after.profile`.
    pub profile: AfterMethod,
    /// `after.password`: e.g. `[{hook: revoke_active_sessions}]`.
    pub password: AfterMethod,
    /// `after.totp`.
    pub totp: AfterMethod,
    /// `after.lookup_secret`.
    pub lookup_secret: AfterMethod,
}

/// What happens after one settings method succeeds.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AfterMethod {
    /// `default_browser_return_url`: default `after.default_browser_return_url`.
    pub default_browser_return_url: Option<String>,
    /// `hooks`: `revoke_active_sessions` (not for `profile`); others are ignored with a warning.
    pub hooks: Vec<Hook>,
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
