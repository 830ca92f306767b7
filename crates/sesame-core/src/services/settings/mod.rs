//! The settings flow (spec part 2, §1–§2): a signed-in identity changes its traits, its password and
//! its second factors (TOTP, backup recovery codes). Credential changes need a privileged session,
//! and every change keeps the identity's highest available AAL current.

mod methods;
mod nodes;

use super::{Deps, Failure, SubmitContext, active_session};
use crate::aal::satisfies;
use crate::error::CoreError;
use crate::flow::{FlowBody, FlowKind, FlowRecord};
use crate::identity::{Credential, CredentialType, Identity, IdentityView};
use crate::ids::FlowId;
use crate::messages;
use crate::session::Session;
use crate::token::SessionToken;
use crate::totp;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sesame_types::{FlowType, SettingsFlow, UiContainer};
use std::sync::Arc;

/// What a settings flow is created from.
#[derive(Debug, Clone)]
pub struct SettingsInit {
    /// API or browser.
    pub flow_type: FlowType,
    /// The init request's absolute URL.
    pub request_url: String,
    /// `return_to=`, already checked against the allow-list.
    pub return_to: Option<String>,
    /// Browser flows: the anti-CSRF cookie's token the flow is bound to.
    pub csrf: Option<String>,
}

/// The answer to a settings submit.
#[derive(Debug)]
pub enum SettingsAnswer {
    /// A change was saved (`state: success`, UI rebuilt).
    Updated {
        /// The flow as it now stands.
        flow: Box<SettingsFlow>,
        /// The method that made the change (for `after.<method>` return URLs).
        method: &'static str,
        /// The session's expiry, for re-issuing a browser's session cookie.
        session_expires_at: DateTime<Utc>,
    },
    /// Backup codes were generated or revealed: the flow shows them; nothing changed yet.
    Shown(Box<SettingsFlow>),
}

/// Server-side state of a settings flow, never shown to clients.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Context {
    /// The TOTP URL offered for linking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    totp_url: Option<String>,
    /// Backup codes generated and waiting for confirmation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lookup_codes: Vec<String>,
}

impl Context {
    fn from_record(value: Option<&Value>) -> Self {
        value
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    fn to_value(&self) -> Option<Value> {
        serde_json::to_value(self).ok()
    }
}

/// Settings flows.
#[derive(Clone)]
pub struct SettingsService(pub(crate) Arc<Deps>);

impl SettingsService {
    /// Builds the service.
    pub fn new(deps: Arc<Deps>) -> Self {
        Self(deps)
    }

    /// The request's active session that meets `selfservice.flows.settings.required_aal`.
    async fn session(
        &self,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<(Session, Identity), CoreError> {
        let (session, identity) = active_session(&self.0, token, now)
            .await?
            .ok_or(CoreError::NoSession)?;
        if !satisfies(
            self.0.settings.settings_required_aal,
            session.aal,
            identity.available_aal,
        ) {
            return Err(CoreError::Aal2Required);
        }
        Ok((session, identity))
    }

    /// `GET /self-service/settings/{api,browser}`.
    pub async fn init(
        &self,
        init: SettingsInit,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<SettingsFlow, CoreError> {
        let (_, identity) = self.session(token, now).await?;
        let csrf = init.csrf.clone();
        let (flow, context) = self.create(init, &identity, now).await?;
        self.save(&flow, csrf, &context).await?;
        Ok(flow)
    }

    /// A new flow for `identity` (not saved yet) and its context.
    async fn create(
        &self,
        init: SettingsInit,
        identity: &Identity,
        now: DateTime<Utc>,
    ) -> Result<(SettingsFlow, Context), CoreError> {
        let credentials = self.0.store.credentials(&[identity.id]).await?;
        let id = FlowId::new();
        let mut flow = SettingsFlow {
            id: id.0,
            flow_type: init.flow_type,
            expires_at: now + self.0.settings.settings_lifespan,
            issued_at: now,
            request_url: init.request_url,
            return_to: init.return_to,
            active: None,
            ui: UiContainer {
                action: self
                    .0
                    .settings
                    .public_url(&format!("self-service/settings?flow={}", id.0)),
                method: "POST".into(),
                nodes: Vec::new(),
                messages: Vec::new(),
            },
            identity: self.identity_wire(identity),
            state: "show_form".into(),
            organization_id: None,
            continue_with: None,
        };
        let context = self.fill_form(&mut flow, identity, &credentials, init.csrf.as_deref())?;
        Ok((flow, context))
    }

    /// `GET /self-service/settings/flows?id=`: only for a session of the flow's identity.
    pub async fn get(
        &self,
        id: FlowId,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<SettingsFlow, CoreError> {
        let (_, identity) = self.session(token, now).await?;
        let (flow, _, _) = self.load(id).await?;
        if flow.identity.id != identity.id.0 {
            return Err(CoreError::IdentityMismatch { submit: false });
        }
        if flow.expires_at <= now {
            return Err(CoreError::FlowExpiredOnFetch {
                kind: FlowKind::Settings,
                flow_type: flow.flow_type,
                return_to: flow.return_to,
            });
        }
        Ok(flow)
    }

    /// `POST /self-service/settings?flow=`.
    pub async fn submit(
        &self,
        id: FlowId,
        body: Result<Value, String>,
        ctx: &SubmitContext,
        now: DateTime<Utc>,
    ) -> Result<SettingsAnswer, CoreError> {
        let (session, identity) = self.session(ctx.token.as_ref(), now).await?;
        let (mut flow, csrf_token, context) = self.load(id).await?;
        if flow.expires_at <= now {
            return Err(self
                .replace_expired(&flow, csrf_token, &identity, now)
                .await?);
        }
        if flow.identity.id != identity.id.0 {
            return Err(CoreError::IdentityMismatch { submit: true });
        }
        messages::clear_messages(&mut flow.ui.nodes);
        flow.ui.messages.clear();
        let mut run = methods::Run {
            service: self,
            flow: &mut flow,
            context,
            session,
            identity,
            csrf_token: csrf_token.as_deref(),
            now,
        };
        match run.dispatch(body, ctx).await {
            Ok(answer) => Ok(answer),
            Err(Failure::Flow) => {
                let context = run.context.clone();
                if let Some(masked) = csrf_token.as_deref().and_then(crate::csrf::mask) {
                    messages::set_value(&mut flow.ui.nodes, "csrf_token", Value::String(masked));
                }
                self.save(&flow, csrf_token, &context).await?;
                Err(CoreError::FlowInvalid(Box::new(FlowBody::Settings(flow))))
            }
            Err(Failure::Core(e)) => Err(e),
        }
    }

    /// A submit to an expired flow gets a fresh flow of the same kind, which says why.
    async fn replace_expired(
        &self,
        flow: &SettingsFlow,
        csrf_token: Option<String>,
        identity: &Identity,
        now: DateTime<Utc>,
    ) -> Result<CoreError, CoreError> {
        let init = SettingsInit {
            flow_type: flow.flow_type,
            request_url: flow.request_url.clone(),
            return_to: flow.return_to.clone(),
            csrf: csrf_token.clone(),
        };
        let (mut replacement, context) = self.create(init, identity, now).await?;
        replacement.ui.messages.push(messages::flow_expired(
            FlowKind::Settings,
            flow.expires_at,
            now,
        ));
        self.save(&replacement, csrf_token, &context).await?;
        Ok(CoreError::FlowExpired {
            expired_at: flow.expires_at,
            since: now - flow.expires_at,
            replacement: replacement.id,
            flow_type: flow.flow_type,
        })
    }

    async fn load(&self, id: FlowId) -> Result<(SettingsFlow, Option<String>, Context), CoreError> {
        match self.0.store.flow(id).await? {
            Some(FlowRecord {
                body: FlowBody::Settings(flow),
                csrf_token,
                context,
            }) => {
                let context = Context::from_record(context.as_ref());
                Ok((flow, csrf_token, context))
            }
            _ => Err(CoreError::NotFound),
        }
    }

    async fn save(
        &self,
        flow: &SettingsFlow,
        csrf_token: Option<String>,
        context: &Context,
    ) -> Result<(), CoreError> {
        self.0
            .store
            .save_flow(&FlowRecord {
                body: FlowBody::Settings(flow.clone()),
                csrf_token,
                context: context.to_value(),
            })
            .await?;
        Ok(())
    }

    /// Builds the form from scratch (new flows, and after every successful change): a new TOTP
    /// secret is offered to identities without one. Returns the flow's new context.
    fn fill_form(
        &self,
        flow: &mut SettingsFlow,
        identity: &Identity,
        credentials: &[Credential],
        csrf: Option<&str>,
    ) -> Result<Context, CoreError> {
        let settings = &self.0.settings;
        let schema = self
            .0
            .schemas
            .get(&identity.schema_id)
            .unwrap_or_else(|| self.0.schemas.default_schema());
        let has_totp = credentials.iter().any(|c| c.kind == CredentialType::Totp);
        let mut context = Context::default();
        if settings.totp_enabled && !has_totp {
            let account = schema
                .fields
                .iter()
                .find(|f| f.totp_account_name)
                .and_then(|f| f.path.iter().try_fold(&identity.traits, |v, k| v.get(k)))
                .and_then(Value::as_str)
                .map_or_else(|| identity.id.0.to_string(), str::to_owned);
            let secret = totp::TotpSecret::generate();
            context.totp_url = Some(totp::otpauth_url(&settings.totp_issuer, &account, &secret));
        }
        let input = nodes::FormInput {
            settings,
            schema,
            identity,
            credentials,
            pending_totp_url: context.totp_url.as_deref(),
        };
        flow.ui.nodes = nodes::form(&input).map_err(CoreError::Internal)?;
        if let Some(masked) = csrf.and_then(crate::csrf::mask) {
            messages::set_value(&mut flow.ui.nodes, "csrf_token", Value::String(masked));
        }
        Ok(context)
    }

    fn identity_wire(&self, identity: &Identity) -> sesame_types::Identity {
        identity.to_wire(&self.0.settings.public_base_url, IdentityView::Public, None)
    }
}
