//! The settings methods (spec part 2, §1.6–§1.8, §2): which one a submit is for, the privileged-
//! session rule, and what `profile`, `password`, `totp` and `lookup_secret` change.

use super::{Context, SettingsAnswer, SettingsService, nodes};
use crate::aal::{Aal, available_aal};
use crate::error::CoreError;
use crate::identity::{Credential, CredentialType, Identity};
use crate::lookup::{self, RecoveryCode};
use crate::messages;
use crate::password::Password;
use crate::services::identities::{recovery_addresses, verifiable_addresses};
use crate::services::{Failure, SubmitContext, second_factor};
use crate::session::Session;
use crate::store::StoreError;
use crate::totp;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sesame_types::{AuthenticationMethod, FlowType, SettingsFlow};

/// The method a submit is for (§1.6, in Kratos's strategy order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Profile,
    Password,
    Totp,
    LookupSecret,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Profile => "profile",
            Method::Password => "password",
            Method::Totp => "totp",
            Method::LookupSecret => "lookup_secret",
        }
    }
}

/// A JSON `true`, or the form value `"true"`.
fn flag(body: &Value, name: &str) -> bool {
    match body.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// A string field; numbers sent for strings are taken as their text, as Kratos's decoder does.
fn string(body: &Value, name: &str) -> Option<String> {
    match body.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The type name Kratos's decoder (gjson's `Result.Type`) reports for a body that is not an
/// object, e.g. `Number` (spec part 2, §1.9).
fn gjson_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(true) => "True",
        Value::Bool(false) => "False",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) | Value::Object(_) => "JSON",
    }
}

fn route(body: &Value) -> Option<Method> {
    let method = body.get("method").and_then(Value::as_str);
    if method == Some("profile") {
        Some(Method::Profile)
    } else if method == Some("password") {
        Some(Method::Password)
    } else if method == Some("totp") || flag(body, "totp_unlink") {
        Some(Method::Totp)
    } else if [
        "lookup_secret_reveal",
        "lookup_secret_regenerate",
        "lookup_secret_confirm",
        "lookup_secret_disable",
    ]
    .iter()
    .any(|f| flag(body, f))
    {
        Some(Method::LookupSecret)
    } else {
        None
    }
}

/// What a method did.
enum Done {
    /// The identity (and maybe the session) changed: the flow succeeds.
    Saved {
        identity: Box<Identity>,
        credentials: Vec<Credential>,
    },
    /// The flow shows something (backup codes) without a change.
    Shown,
}

/// One submit in progress.
pub(super) struct Run<'a> {
    pub(super) service: &'a SettingsService,
    pub(super) flow: &'a mut SettingsFlow,
    pub(super) context: Context,
    pub(super) session: Session,
    pub(super) identity: Identity,
    pub(super) csrf_token: Option<&'a str>,
    pub(super) now: DateTime<Utc>,
}

impl Run<'_> {
    fn fail_global(&mut self, message: sesame_types::UiText) -> Failure {
        self.flow.ui.messages.push(message);
        Failure::Flow
    }

    fn fail_node(&mut self, name: &str, message: sesame_types::UiText) -> Failure {
        match messages::node_mut(&mut self.flow.ui.nodes, name) {
            Some(node) => node.messages.push(message),
            None => self.flow.ui.messages.push(message),
        }
        Failure::Flow
    }

    pub(super) async fn dispatch(
        &mut self,
        body: Result<Value, String>,
        ctx: &SubmitContext,
    ) -> Result<SettingsAnswer, Failure> {
        let service = self.service;
        let settings = &service.0.settings;
        if let Some(reason) = ctx
            .browser_header
            .clone()
            .filter(|_| self.flow.flow_type == FlowType::Api)
        {
            return Err(self.fail_global(messages::generic_with_reason(&reason)));
        }
        let body = match body {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => {
                let reason = format!(
                    "Expected JSON sent in request body to be an object but got: {}",
                    gjson_type_name(&other)
                );
                return Err(self.fail_global(messages::generic_with_reason(&reason)));
            }
            Err(e) => return Err(self.fail_global(messages::generic_with_reason(&e))),
        };
        crate::services::check_csrf(
            self.flow.flow_type,
            self.csrf_token,
            &Ok(body.clone()),
            &ctx.csrf,
        )?;
        let Some(method) = route(&body) else {
            return Err(self.fail_global(messages::settings_no_strategy()));
        };
        let enabled = match method {
            Method::Profile => settings.profile_enabled,
            Method::Password => settings.password_enabled,
            Method::Totp => settings.totp_enabled,
            Method::LookupSecret => settings.lookup_secret_enabled,
        };
        if !enabled {
            return Err(Failure::Core(CoreError::MethodDisabled));
        }
        let done = match method {
            Method::Profile => self.profile(&body).await?,
            Method::Password => {
                self.require_privileged(method)?;
                self.password(&body).await?
            }
            Method::Totp => {
                self.require_privileged(method)?;
                self.totp(&body).await?
            }
            Method::LookupSecret => {
                self.require_privileged(method)?;
                self.lookup_secret(&body).await?
            }
        };
        match done {
            Done::Shown => {
                self.service
                    .save(
                        &*self.flow,
                        self.csrf_token.map(str::to_owned),
                        &self.context,
                    )
                    .await?;
                Ok(SettingsAnswer::Shown(Box::new(self.flow.clone())))
            }
            Done::Saved {
                identity,
                credentials,
            } => self.succeed(method, *identity, credentials).await,
        }
    }

    /// §1.7: authenticated within `privileged_session_max_age`. As in Kratos, a zero maximum
    /// makes every session privileged except for password changes, which it forbids.
    fn require_privileged(&self, method: Method) -> Result<(), Failure> {
        let max_age = self.service.0.settings.privileged_session_max_age;
        let privileged = if max_age <= chrono::Duration::zero() {
            method != Method::Password
        } else {
            self.session.authenticated_at + max_age > self.now
        };
        if privileged {
            Ok(())
        } else {
            Err(Failure::Core(CoreError::RefreshRequired))
        }
    }

    /// §1.8: the change is stored; the flow says so, offers a fresh form, and the hooks run.
    async fn succeed(
        &mut self,
        method: Method,
        mut identity: Identity,
        credentials: Vec<Credential>,
    ) -> Result<SettingsAnswer, Failure> {
        let service = self.service;
        let deps = &service.0;
        identity.available_aal = available_aal(&credentials);
        identity.updated_at = self.now;
        match deps
            .store
            .update_identity(&identity, Some(&credentials))
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(self.fail_global(messages::duplicate_credentials()));
            }
            Err(e) => return Err(e.into()),
        }
        let context =
            service.fill_form(&mut *self.flow, &identity, &credentials, self.csrf_token)?;
        self.context = context;
        self.flow.state = "success".into();
        self.flow.identity = service.identity_wire(&identity);
        self.flow.ui.messages = vec![messages::settings_saved()];
        service
            .save(
                &*self.flow,
                self.csrf_token.map(str::to_owned),
                &self.context,
            )
            .await?;
        if deps
            .settings
            .revoke_sessions_after
            .iter()
            .any(|m| m == method.name())
        {
            deps.store
                .revoke_identity_sessions(identity.id, Some(self.session.id), self.now)
                .await?;
        }
        Ok(SettingsAnswer::Updated {
            flow: Box::new(self.flow.clone()),
            method: method.name(),
            session_expires_at: self.session.expires_at,
        })
    }

    async fn credentials(&self) -> Result<Vec<Credential>, Failure> {
        Ok(self
            .service
            .0
            .store
            .credentials(&[self.identity.id])
            .await?)
    }

    /// Records a second factor completed in the settings flow on the current session (§2.3).
    async fn complete_factor(&mut self, method: &str) -> Result<(), Failure> {
        self.session.complete_factor(AuthenticationMethod {
            method: method.to_owned(),
            aal: Aal::Aal2,
            completed_at: self.now,
            provider: None,
        });
        self.session.updated_at = self.now;
        self.service.0.store.update_session(&self.session).await?;
        Ok(())
    }

    /// §2.1: the submitted traits replace the identity's; identifiers and addresses follow them.
    async fn profile(&mut self, body: &Value) -> Result<Done, Failure> {
        let mut traits = match body.get("traits") {
            Some(t @ Value::Object(_)) => t.clone(),
            _ => {
                return Err(self.fail_global(messages::generic_with_reason(
                    "Did not receive any value changes.",
                )));
            }
        };
        let service = self.service;
        let deps = &service.0;
        let schema = deps
            .schemas
            .get(&self.identity.schema_id)
            .unwrap_or_else(|| deps.schemas.default_schema());
        schema.retype(&mut traits);
        for field in &schema.fields {
            let value = field
                .path
                .iter()
                .try_fold(&traits, |v, k| v.get(k))
                .cloned();
            if let Some(v) = value {
                messages::set_value(&mut self.flow.ui.nodes, &field.field_name(), v);
            }
        }
        let extracted = match schema.validate(&traits) {
            Ok(x) => x,
            Err(violations) => {
                for v in violations {
                    match v
                        .field
                        .as_deref()
                        .and_then(|f| messages::node_mut(&mut self.flow.ui.nodes, f))
                    {
                        Some(node) => node.messages.push(v.message),
                        None => self.flow.ui.messages.push(v.message),
                    }
                }
                return Err(Failure::Flow);
            }
        };
        // Changing what identifies the account (login identifiers, addresses) needs a privileged
        // session; other trait changes do not (§1.7).
        let current = schema.validate(&self.identity.traits).unwrap_or_default();
        if current.password_identifiers != extracted.password_identifiers
            || current.verifiable != extracted.verifiable
            || current.recovery != extracted.recovery
        {
            self.require_privileged(Method::Profile)?;
        }
        let mut credentials = self.credentials().await?;
        for c in credentials
            .iter_mut()
            .filter(|c| c.kind == CredentialType::Password)
        {
            if c.identifiers != extracted.password_identifiers {
                c.identifiers = extracted.password_identifiers.clone();
                c.updated_at = self.now;
            }
        }
        let mut identity = self.identity.clone();
        identity.verifiable_addresses =
            verifiable_addresses(&extracted, &identity.verifiable_addresses, self.now);
        identity.recovery_addresses =
            recovery_addresses(&extracted, &identity.recovery_addresses, self.now);
        identity.traits = traits;
        Ok(Done::Saved {
            identity: Box::new(identity),
            credentials,
        })
    }

    /// §2.2: a new password (the old one is not asked for), checked against the policy.
    async fn password(&mut self, body: &Value) -> Result<Done, Failure> {
        let Some(password) = string(body, "password")
            .filter(|p| !p.is_empty())
            .map(Password::new)
        else {
            return Err(self.fail_node("password", messages::missing("password")));
        };
        let service = self.service;
        let deps = &service.0;
        let schema = deps
            .schemas
            .get(&self.identity.schema_id)
            .unwrap_or_else(|| deps.schemas.default_schema());
        let identifiers = schema
            .validate(&self.identity.traits)
            .map(|x| x.password_identifiers)
            .unwrap_or_default();
        if identifiers.is_empty() {
            return Err(self.fail_global(messages::no_identifier()));
        }
        if let Err(message) = deps.settings.password_policy.check(&password, &identifiers) {
            return Err(self.fail_node("password", *message));
        }
        let mut credentials = self.credentials().await?;
        let existing = credentials
            .iter()
            .find(|c| c.kind == CredentialType::Password)
            .cloned();
        let unchanged = match existing.as_ref().and_then(Credential::hashed_password) {
            Some(hash) => deps.hasher.verify(&password, hash).await?,
            None => false,
        };
        if unchanged {
            return Err(self.fail_node("password", messages::password_unchanged()));
        }
        let hash = deps.hasher.hash(&password).await?;
        credentials.retain(|c| c.kind != CredentialType::Password);
        credentials.push(Credential {
            id: existing.as_ref().map_or_else(uuid::Uuid::new_v4, |c| c.id),
            identity_id: self.identity.id,
            kind: CredentialType::Password,
            identifiers,
            config: json!({ "hashed_password": hash }),
            version: 0,
            created_at: existing.as_ref().map_or(self.now, |c| c.created_at),
            updated_at: self.now,
        });
        Ok(Done::Saved {
            identity: Box::new(self.identity.clone()),
            credentials,
        })
    }

    /// §2.3: links the flow's TOTP secret (proved by a current code, used once) or unlinks.
    async fn totp(&mut self, body: &Value) -> Result<Done, Failure> {
        let mut credentials = self.credentials().await?;
        let linked = credentials.iter().any(|c| c.kind == CredentialType::Totp);
        if flag(body, "totp_unlink") || linked {
            // Kratos answers a link attempt on an identity that has TOTP with success, changing
            // nothing; unlinking deletes the credential.
            credentials.retain(|c| c.kind != CredentialType::Totp || !flag(body, "totp_unlink"));
            return Ok(Done::Saved {
                identity: Box::new(self.identity.clone()),
                credentials,
            });
        }
        let Some(code) = string(body, "totp_code").filter(|c| !c.trim().is_empty()) else {
            return Err(self.fail_node("totp_code", messages::missing("totp_code")));
        };
        let Some(url) = self.context.totp_url.clone() else {
            return Err(self.fail_node("totp_code", messages::totp_invalid()));
        };
        let Some(secret) = totp::TotpSecret::from_url(&url) else {
            return Err(self.fail_node("totp_code", messages::totp_invalid()));
        };
        if !self.claim_totp(&secret, &code).await? {
            return Err(self.fail_node("totp_code", messages::totp_invalid()));
        }
        credentials.push(Credential {
            id: uuid::Uuid::new_v4(),
            identity_id: self.identity.id,
            kind: CredentialType::Totp,
            identifiers: vec![self.identity.id.0.to_string()],
            config: json!({ "totp_url": url }),
            version: 0,
            created_at: self.now,
            updated_at: self.now,
        });
        self.complete_factor("totp").await?;
        Ok(Done::Saved {
            identity: Box::new(self.identity.clone()),
            credentials,
        })
    }

    /// Whether `code` is valid now and was not used before (DESIGN.md, difference 8).
    async fn claim_totp(&self, secret: &totp::TotpSecret, code: &str) -> Result<bool, Failure> {
        second_factor::claim_totp(&self.service.0, self.identity.id, secret, code, self.now).await
    }

    /// §2.4: generate, confirm, reveal or disable backup recovery codes.
    async fn lookup_secret(&mut self, body: &Value) -> Result<Done, Failure> {
        let mut credentials = self.credentials().await?;
        let stored = credentials
            .iter()
            .find(|c| c.kind == CredentialType::LookupSecret)
            .map(second_factor::stored_codes)
            .unwrap_or_default();
        // Kratos's precedence when several flags are set.
        if flag(body, "lookup_secret_confirm") {
            if self.context.lookup_codes.is_empty() {
                return Err(self.fail_global(messages::generic_with_reason(
                    "You must (re-)generate recovery backup codes before you can save them.",
                )));
            }
            let codes: Vec<RecoveryCode> = std::mem::take(&mut self.context.lookup_codes)
                .into_iter()
                .map(|code| RecoveryCode {
                    code,
                    used_at: None,
                })
                .collect();
            let previous = credentials
                .iter()
                .find(|c| c.kind == CredentialType::LookupSecret)
                .cloned();
            credentials.retain(|c| c.kind != CredentialType::LookupSecret);
            credentials.push(Credential {
                id: previous.as_ref().map_or_else(uuid::Uuid::new_v4, |c| c.id),
                identity_id: self.identity.id,
                kind: CredentialType::LookupSecret,
                identifiers: vec![self.identity.id.0.to_string()],
                config: json!({ "recovery_codes": codes }),
                version: 0,
                created_at: previous.as_ref().map_or(self.now, |c| c.created_at),
                updated_at: self.now,
            });
            self.complete_factor("lookup_secret").await?;
            return Ok(Done::Saved {
                identity: Box::new(self.identity.clone()),
                credentials,
            });
        }
        if flag(body, "lookup_secret_reveal") {
            if stored.is_empty() {
                return Err(self.fail_global(messages::generic_with_reason(
                    "Can not reveal lookup codes because you have none.",
                )));
            }
            // Kratos appends these after every other node, without re-sorting.
            self.flow.ui.nodes.retain(|n| !nodes::is_lookup(n));
            self.flow.ui.nodes.push(nodes::codes(&stored));
            self.flow.ui.nodes.push(nodes::lookup_button(
                "lookup_secret_disable",
                1050016,
                "Disable this method",
            ));
            self.flow.ui.nodes.push(nodes::lookup_button(
                "lookup_secret_regenerate",
                1050008,
                "Generate new backup recovery codes",
            ));
            return Ok(Done::Shown);
        }
        if flag(body, "lookup_secret_disable") {
            credentials.retain(|c| c.kind != CredentialType::LookupSecret);
            return Ok(Done::Saved {
                identity: Box::new(self.identity.clone()),
                credentials,
            });
        }
        // Regenerate: the new codes wait in the flow until confirmed.
        let codes = lookup::generate_codes();
        let shown: Vec<RecoveryCode> = codes
            .iter()
            .map(|code| RecoveryCode {
                code: code.clone(),
                used_at: None,
            })
            .collect();
        self.context.lookup_codes = codes;
        // Like reveal, Kratos removes the backup-code nodes and appends the new ones after every
        // other node (`Nodes.Upsert` of a missing node appends), without re-sorting.
        self.flow.ui.nodes.retain(|n| !nodes::is_lookup(n));
        self.flow.ui.nodes.push(nodes::codes(&shown));
        self.flow.ui.nodes.push(nodes::lookup_button(
            "lookup_secret_confirm",
            1050011,
            "Confirm backup recovery codes",
        ));
        Ok(Done::Shown)
    }
}
