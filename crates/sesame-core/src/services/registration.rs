//! Registration flows for native apps: init, fetch, and the password method.

use super::{Deps, Failure, SubmitContext, active_session, issue_session};
use crate::aal::{Aal, available_aal};
use crate::error::CoreError;
use crate::flow::{FlowBody, FlowKind, FlowRecord};
use crate::identity::{Credential, CredentialType, Identity, IdentityView};
use crate::ids::{FlowId, IdentityId};
use crate::messages::{self, Input};
use crate::password::Password;
use crate::schema::IdentitySchema;
use crate::store::StoreError;
use crate::token::SessionToken;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sesame_types::{FlowType, IdentityState, RegistrationFlow, UiContainer, UiNode};
use std::sync::Arc;

/// A password registration submit, decoded.
#[derive(Debug, Clone, Default)]
pub struct RegistrationSubmission {
    /// `method`.
    pub method: Option<String>,
    /// `traits`.
    pub traits: Value,
    /// `password`.
    pub password: Option<Password>,
}

impl RegistrationSubmission {
    /// Reads a decoded JSON or form body.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        if !v.is_object() {
            return Err(format!(
                "unable to decode JSON payload: expected an object, got {}",
                super::login::type_name(v)
            ));
        }
        let string = |name: &str| -> Result<Option<String>, String> {
            match v.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!(
                    "unable to decode JSON payload: field {name:?} must be a string, got {}",
                    super::login::type_name(other)
                )),
            }
        };
        let traits = match v.get("traits") {
            None | Some(Value::Null) => json!({}),
            Some(t @ Value::Object(_)) => t.clone(),
            Some(other) => {
                return Err(format!(
                    "unable to decode JSON payload: field \"traits\" must be an object, got {}",
                    super::login::type_name(other)
                ));
            }
        };
        Ok(Self {
            method: string("method")?,
            traits,
            password: string("password")?.map(Password::new),
        })
    }
}

/// A completed registration.
#[derive(Debug)]
pub struct RegistrationSuccess {
    /// The new identity.
    pub identity: Identity,
    /// The session, always created; its token is handed out only with the `session` hook.
    pub session: crate::session::Session,
    /// The token, with the `session` hook.
    pub token: Option<SessionToken>,
    /// API or browser.
    pub flow_type: FlowType,
    /// The flow's `return_to`.
    pub return_to: Option<String>,
}

/// Registration flows.
#[derive(Clone)]
pub struct RegistrationService(pub(crate) Arc<Deps>);

impl RegistrationService {
    /// Builds the service.
    pub fn new(deps: Arc<Deps>) -> Self {
        Self(deps)
    }

    /// `GET /self-service/registration/{api,browser}`.
    pub async fn init(
        &self,
        flow_type: FlowType,
        request_url: String,
        return_to: Option<String>,
        token: Option<&SessionToken>,
        csrf: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<RegistrationFlow, CoreError> {
        if active_session(&self.0, token, now).await?.is_some() {
            return Err(CoreError::SessionAlreadyAvailable { registration: true });
        }
        let id = FlowId::new();
        let mut flow = RegistrationFlow {
            id: id.0,
            flow_type,
            expires_at: now + self.0.settings.registration_lifespan,
            issued_at: now,
            request_url,
            return_to,
            active: None,
            ui: UiContainer {
                action: self
                    .0
                    .settings
                    .public_url(&format!("self-service/registration?flow={}", id.0)),
                method: "POST".into(),
                nodes: self.nodes(self.0.schemas.default_schema()),
                messages: Vec::new(),
            },
            organization_id: None,
            state: "choose_method".into(),
        };
        if let Some(masked) = csrf.as_deref().and_then(crate::csrf::mask) {
            messages::set_value(&mut flow.ui.nodes, "csrf_token", Value::String(masked));
        }
        self.0
            .store
            .save_flow(&FlowRecord {
                body: FlowBody::Registration(flow.clone()),
                csrf_token: csrf,
                context: None,
            })
            .await?;
        Ok(flow)
    }

    fn nodes(&self, schema: &IdentitySchema) -> Vec<UiNode> {
        let mut nodes = vec![messages::csrf_node("")];
        for field in &schema.fields {
            let (input_type, autocomplete) = messages::trait_input_type(field);
            let name = field.field_name();
            let label = field
                .title
                .as_ref()
                .map(|t| messages::label(1070002, t, Some(json!({ "title": t }))));
            nodes.push(
                Input {
                    group: "password",
                    name: &name,
                    input_type,
                    value: None,
                    required: field.required,
                    autocomplete,
                    label,
                }
                .node(),
            );
        }
        if self.0.settings.password_enabled {
            nodes.push(
                Input {
                    group: "password",
                    name: "password",
                    input_type: "password",
                    value: None,
                    required: true,
                    autocomplete: Some("new-password"),
                    label: Some(messages::label(1070001, "Password", None)),
                }
                .node(),
            );
            nodes.push(
                Input {
                    group: "password",
                    name: "method",
                    input_type: "submit",
                    value: Some(Value::String("password".into())),
                    required: false,
                    autocomplete: None,
                    label: Some(messages::label(1040001, "Sign up", None)),
                }
                .node(),
            );
        }
        nodes
    }

    /// `GET /self-service/registration/flows?id=`. A browser flow is shown only to the browser holding
    /// the anti-CSRF cookie it was created for.
    pub async fn get(
        &self,
        id: FlowId,
        csrf_cookie: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RegistrationFlow, CoreError> {
        let record = self.0.store.flow(id).await?;
        let Some(FlowRecord {
            body: FlowBody::Registration(flow),
            csrf_token,
            ..
        }) = record
        else {
            return Err(CoreError::NotFound);
        };
        // The owner check comes first, as in Kratos: another browser learns nothing about the flow.
        super::check_flow_owner(flow.flow_type, csrf_token.as_deref(), csrf_cookie)?;
        if flow.expires_at <= now {
            return Err(CoreError::FlowExpiredOnFetch {
                kind: FlowKind::Registration,
                flow_type: flow.flow_type,
                return_to: flow.return_to,
            });
        }
        Ok(flow)
    }

    /// `POST /self-service/registration?flow=`.
    pub async fn submit(
        &self,
        id: FlowId,
        body: Result<Value, String>,
        ctx: &SubmitContext,
        now: DateTime<Utc>,
    ) -> Result<RegistrationSuccess, CoreError> {
        if active_session(&self.0, ctx.token.as_ref(), now)
            .await?
            .is_some()
        {
            return Err(CoreError::SessionAlreadyAvailable { registration: true });
        }
        let record = self.0.store.flow(id).await?;
        let Some(FlowRecord {
            body: FlowBody::Registration(mut flow),
            csrf_token,
            ..
        }) = record
        else {
            return Err(CoreError::NotFound);
        };
        super::check_csrf(flow.flow_type, csrf_token.as_deref(), &body, &ctx.csrf)?;
        if flow.expires_at <= now {
            let mut replacement = self
                .init(
                    flow.flow_type,
                    flow.request_url.clone(),
                    flow.return_to.clone(),
                    None,
                    csrf_token.clone(),
                    now,
                )
                .await?;
            // The replacement says why the user sees a new form, as in Kratos.
            replacement.ui.messages.push(messages::flow_expired(
                FlowKind::Registration,
                flow.expires_at,
                now,
            ));
            self.0
                .store
                .save_flow(&FlowRecord {
                    body: FlowBody::Registration(replacement.clone()),
                    csrf_token: csrf_token.clone(),
                    context: None,
                })
                .await?;
            return Err(CoreError::FlowExpired {
                expired_at: flow.expires_at,
                since: now - flow.expires_at,
                replacement: replacement.id,
                flow_type: flow.flow_type,
            });
        }
        messages::clear_messages(&mut flow.ui.nodes);
        flow.ui.messages.clear();
        match self.register(&mut flow, body, ctx, now).await {
            Ok(done) => Ok(done),
            Err(Failure::Flow) => {
                if let Some(masked) = csrf_token.as_deref().and_then(crate::csrf::mask) {
                    messages::set_value(&mut flow.ui.nodes, "csrf_token", Value::String(masked));
                }
                self.0
                    .store
                    .save_flow(&FlowRecord {
                        body: FlowBody::Registration(flow.clone()),
                        csrf_token,
                        context: None,
                    })
                    .await?;
                Err(CoreError::FlowInvalid(Box::new(FlowBody::Registration(
                    flow,
                ))))
            }
            Err(Failure::Core(e)) => Err(e),
        }
    }

    async fn register(
        &self,
        flow: &mut RegistrationFlow,
        body: Result<Value, String>,
        ctx: &SubmitContext,
        now: DateTime<Utc>,
    ) -> Result<RegistrationSuccess, Failure> {
        let client = &ctx.client;
        let fail = |flow: &mut RegistrationFlow, msg| {
            flow.ui.messages.push(msg);
            Failure::Flow
        };
        if let Some(reason) = ctx
            .browser_header
            .clone()
            .filter(|_| flow.flow_type == FlowType::Api)
        {
            return Err(fail(flow, messages::generic(&reason)));
        }
        let submission = match body.and_then(|v| RegistrationSubmission::from_value(&v)) {
            Ok(s) => s,
            Err(e) => return Err(fail(flow, messages::generic(&e))),
        };
        if submission.method.as_deref() != Some("password") || !self.0.settings.password_enabled {
            return Err(fail(flow, messages::registration_no_strategy()));
        }
        flow.active = Some("password".into());
        let schema = self.0.schemas.default_schema();
        let mut submission = submission;
        schema.retype(&mut submission.traits);
        echo_traits(&mut flow.ui.nodes, schema, &submission.traits);

        let mut invalid = false;
        let extracted = match schema.validate(&submission.traits) {
            Ok(x) => Some(x),
            Err(violations) => {
                invalid = true;
                for v in violations {
                    match v
                        .field
                        .as_deref()
                        .and_then(|f| messages::node_mut(&mut flow.ui.nodes, f))
                    {
                        Some(node) => node.messages.push(v.message),
                        None => flow.ui.messages.push(v.message),
                    }
                }
                None
            }
        };
        let password = submission.password.filter(|p| !p.expose().is_empty());
        if password.is_none() {
            invalid = true;
            if let Some(n) = messages::node_mut(&mut flow.ui.nodes, "password") {
                n.messages.push(messages::missing("password"));
            }
        }
        let (Some(extracted), Some(password), false) = (extracted, password, invalid) else {
            return Err(Failure::Flow);
        };
        if extracted.password_identifiers.is_empty() {
            return Err(fail(flow, messages::no_identifier()));
        }
        if let Err(msg) = self
            .0
            .settings
            .password_policy
            .check(&password, &extracted.password_identifiers)
        {
            if let Some(n) = messages::node_mut(&mut flow.ui.nodes, "password") {
                n.messages.push(*msg);
            }
            return Err(Failure::Flow);
        }
        let hash = self.0.hasher.hash(&password).await?;
        let identity_id = IdentityId::new();
        let credential = Credential {
            id: uuid::Uuid::new_v4(),
            identity_id,
            kind: CredentialType::Password,
            identifiers: extracted.password_identifiers.clone(),
            config: json!({ "hashed_password": hash }),
            version: 0,
            created_at: now,
            updated_at: now,
        };
        let identity = Identity {
            id: identity_id,
            schema_id: schema.id.clone(),
            traits: submission.traits.clone(),
            state: IdentityState::Active,
            state_changed_at: Some(now),
            metadata_public: None,
            metadata_admin: None,
            external_id: None,
            organization_id: None,
            verifiable_addresses: super::identities::verifiable_addresses(&extracted, &[], now),
            recovery_addresses: super::identities::recovery_addresses(&extracted, &[], now),
            available_aal: available_aal(std::slice::from_ref(&credential)),
            created_at: now,
            updated_at: now,
        };
        match self
            .0
            .store
            .create_identity(&identity, std::slice::from_ref(&credential))
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(fail(flow, messages::duplicate_credentials())),
            Err(e) => return Err(e.into()),
        }
        // Kratos always persists a session on registration; the token is handed out only with the hook.
        let issued = issue_session(
            &identity,
            "password",
            Aal::Aal1,
            client,
            self.0.settings.session_lifespan,
            now,
        );
        self.0.store.insert_session(&issued.session).await?;
        let token = self
            .0
            .settings
            .registration_session_hook
            .then_some(issued.token);
        Ok(RegistrationSuccess {
            identity,
            session: issued.session,
            token,
            flow_type: flow.flow_type,
            return_to: flow.return_to.clone(),
        })
    }

    /// The identity's wire view for registration responses.
    pub fn identity_wire(&self, identity: &Identity) -> sesame_types::Identity {
        identity.to_wire(&self.0.settings.public_base_url, IdentityView::Public, None)
    }

    /// The session's wire view for registration responses.
    pub fn session_wire(
        &self,
        success: &RegistrationSuccess,
        now: DateTime<Utc>,
    ) -> sesame_types::Session {
        success.session.to_wire(
            now,
            Some(&success.identity),
            &self.0.settings.public_base_url,
        )
    }
}

fn echo_traits(nodes: &mut [UiNode], schema: &IdentitySchema, traits: &Value) {
    for field in &schema.fields {
        if let Some(v) = field.path.iter().try_fold(traits, |v, k| v.get(k)) {
            messages::set_value(nodes, &field.field_name(), v.clone());
        }
    }
}
