//! Login flows for native apps: init, fetch, and the password method.

use super::second_factor::{self, Factor};
use super::{Deps, Failure, SubmitContext, active_session, issue_session};
use crate::aal::{Aal, satisfies};
use crate::error::CoreError;
use crate::flow::{FlowBody, FlowKind, FlowRecord};
use crate::identity::{CredentialType, normalize_identifier};
use crate::ids::FlowId;
use crate::messages::{self, Input};
use crate::password::Password;
use crate::session::Session;
use crate::token::SessionToken;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sesame_types::{
    AuthenticationMethod, FlowType, LoginFlow, SuccessfulNativeLogin, UiContainer, UiNode,
};
use std::sync::Arc;

/// What a login flow is created from.
#[derive(Debug, Clone)]
pub struct LoginInit {
    /// API or browser.
    pub flow_type: FlowType,
    /// The init request's absolute URL.
    pub request_url: String,
    /// `refresh=true`.
    pub refresh: bool,
    /// `aal=`.
    pub aal: Aal,
    /// `return_to=`.
    pub return_to: Option<String>,
    /// Browser flows: the anti-CSRF cookie's token the flow is bound to.
    pub csrf: Option<String>,
}

/// A completed login.
#[derive(Debug)]
pub struct LoginSuccess {
    /// The body of an API flow's answer.
    pub body: SuccessfulNativeLogin,
    /// API or browser: browsers get a cookie instead of the token.
    pub flow_type: FlowType,
    /// The flow's `return_to`.
    pub return_to: Option<String>,
    /// The session token (for the cookie).
    pub token: SessionToken,
    /// The session's expiry (for the cookie).
    pub expires_at: DateTime<Utc>,
    /// The identity has a second factor the session has not proven yet, and the whoami rule asks
    /// for it: browsers continue with an `aal=aal2` flow.
    pub needs_second_factor: bool,
}

/// A password login submit, decoded.
#[derive(Debug, Clone, Default)]
pub struct LoginSubmission {
    /// `method`.
    pub method: Option<String>,
    /// `identifier` (or legacy `password_identifier`).
    pub identifier: Option<String>,
    /// `password`.
    pub password: Option<Password>,
}

impl LoginSubmission {
    /// Reads a decoded JSON or form body; wrong types are reported like a decoder would.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let field = |name: &str| -> Result<Option<String>, String> {
            match v.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!(
                    "unable to decode JSON payload: field {name:?} must be a string, got {}",
                    type_name(other)
                )),
            }
        };
        if !v.is_object() {
            return Err(format!(
                "unable to decode JSON payload: expected an object, got {}",
                type_name(v)
            ));
        }
        Ok(Self {
            method: field("method")?,
            identifier: field("identifier")?.or(field("password_identifier")?),
            password: field("password")?.map(Password::new),
        })
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Login flows.
#[derive(Clone)]
pub struct LoginService(pub(crate) Arc<Deps>);

impl LoginService {
    /// Builds the service.
    pub fn new(deps: Arc<Deps>) -> Self {
        Self(deps)
    }

    /// `GET /self-service/login/{api,browser}`.
    pub async fn init(
        &self,
        init: LoginInit,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<LoginFlow, CoreError> {
        let current = active_session(&self.0, token, now).await?;
        let mut flow = self.new_flow(&init, now);
        match &current {
            None if init.aal >= Aal::Aal2 => return Err(CoreError::Aal1Required),
            None => flow.refresh = false,
            // A second-factor refresh (`aal=aal2&refresh=true` on an aal2 session) proves a
            // second factor again, so it offers the second factors, not the password (spec part 2
            // §3.1, §3.4: several backup codes in a row).
            Some((session, identity))
                if init.aal > session.aal || (init.refresh && init.aal >= Aal::Aal2) =>
            {
                // A second-factor flow offers only the factors the identity has (spec part 2
                // §3.1); an API flow without any has no nodes at all.
                let credentials = self.0.store.credentials(&[identity.id]).await?;
                let factors = second_factor::login_nodes(&self.0, &credentials);
                flow.ui
                    .nodes
                    .retain(|n| n.group == "default" && !is_named(n, "identifier"));
                if factors.is_empty() && init.flow_type == FlowType::Api {
                    flow.ui.nodes.clear();
                }
                flow.ui.nodes.extend(factors);
                if init.aal > session.aal {
                    flow.ui.messages.push(messages::login_mfa());
                }
                if init.refresh {
                    flow.ui.messages.push(messages::login_refresh());
                }
            }
            Some(_) if !init.refresh => {
                return Err(CoreError::SessionAlreadyAvailable {
                    registration: false,
                });
            }
            Some((_, identity)) => {
                let creds = self.0.store.credentials(&[identity.id]).await?;
                match creds.iter().find(|c| c.kind == CredentialType::Password) {
                    Some(pw) => {
                        let identifier = pw.identifiers.first().cloned().unwrap_or_default();
                        if let Some(UiNode {
                            attributes: sesame_types::UiNodeAttributes::Input(a),
                            ..
                        }) = messages::node_mut(&mut flow.ui.nodes, "identifier")
                        {
                            a.input_type = "hidden".into();
                            a.value = Some(Value::String(identifier));
                        }
                    }
                    None => flow
                        .ui
                        .nodes
                        .retain(|n| n.group == "default" && !is_named(n, "identifier")),
                }
                flow.ui.messages.push(messages::login_refresh());
            }
        }
        if let Some(masked) = init.csrf.as_deref().and_then(crate::csrf::mask) {
            messages::set_value(&mut flow.ui.nodes, "csrf_token", Value::String(masked));
        }
        self.0
            .store
            .save_flow(&FlowRecord {
                body: FlowBody::Login(flow.clone()),
                csrf_token: init.csrf.clone(),
                context: None,
            })
            .await?;
        Ok(flow)
    }

    fn new_flow(&self, init: &LoginInit, now: DateTime<Utc>) -> LoginFlow {
        let id = FlowId::new();
        let schema = self.0.schemas.default_schema();
        let mut nodes = vec![messages::csrf_node("")];
        if self.0.settings.password_enabled {
            nodes.push(
                Input {
                    group: "default",
                    name: "identifier",
                    input_type: "text",
                    value: Some(Value::String(String::new())),
                    required: true,
                    autocomplete: None,
                    label: Some(schema.identifier_label()),
                }
                .node(),
            );
            nodes.push(
                Input {
                    group: "password",
                    name: "password",
                    input_type: "password",
                    value: None,
                    required: true,
                    autocomplete: Some("current-password"),
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
                    label: Some(messages::label(1010022, "Sign in with password", None)),
                }
                .node(),
            );
        }
        LoginFlow {
            id: id.0,
            organization_id: None,
            flow_type: init.flow_type,
            expires_at: now + self.0.settings.login_lifespan,
            issued_at: now,
            request_url: init.request_url.clone(),
            return_to: init.return_to.clone(),
            active: None,
            ui: UiContainer {
                action: self
                    .0
                    .settings
                    .public_url(&format!("self-service/login?flow={}", id.0)),
                method: "POST".into(),
                nodes,
                messages: Vec::new(),
            },
            created_at: now,
            updated_at: now,
            refresh: init.refresh,
            requested_aal: if init.aal >= Aal::Aal2 {
                Aal::Aal2
            } else {
                Aal::Aal1
            },
            state: "choose_method".into(),
        }
    }

    /// `GET /self-service/login/flows?id=`. A browser flow is shown only to the browser holding the
    /// anti-CSRF cookie it was created for.
    pub async fn get(
        &self,
        id: FlowId,
        csrf_cookie: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LoginFlow, CoreError> {
        let record = self.0.store.flow(id).await?;
        let Some(FlowRecord {
            body: FlowBody::Login(flow),
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
                kind: FlowKind::Login,
                flow_type: flow.flow_type,
                return_to: flow.return_to,
            });
        }
        Ok(flow)
    }

    /// `POST /self-service/login?flow=`.
    pub async fn submit(
        &self,
        id: FlowId,
        body: Result<Value, String>,
        ctx: &SubmitContext,
        now: DateTime<Utc>,
    ) -> Result<LoginSuccess, CoreError> {
        let record = self.0.store.flow(id).await?;
        let Some(FlowRecord {
            body: FlowBody::Login(mut flow),
            csrf_token,
            ..
        }) = record
        else {
            return Err(CoreError::NotFound);
        };
        super::check_csrf(flow.flow_type, csrf_token.as_deref(), &body, &ctx.csrf)?;
        let token = ctx.token.as_ref();
        if flow.expires_at <= now {
            let like_the_old = LoginInit {
                flow_type: flow.flow_type,
                request_url: flow.request_url.clone(),
                refresh: flow.refresh,
                aal: flow.requested_aal,
                return_to: flow.return_to.clone(),
                csrf: csrf_token.clone(),
            };
            // The replacement continues what the old flow asked for when the request still allows
            // it (a refresh or second factor needs the session); otherwise it is a plain login flow.
            let mut replacement = match self.init(like_the_old.clone(), token, now).await {
                Ok(f) => f,
                Err(CoreError::Store(e)) => return Err(e.into()),
                Err(_) => {
                    let plain = LoginInit {
                        refresh: false,
                        aal: Aal::Aal1,
                        ..like_the_old
                    };
                    self.init(plain, None, now).await?
                }
            };
            // The replacement says why the user sees a new form, as in Kratos.
            replacement.ui.messages.push(messages::flow_expired(
                FlowKind::Login,
                flow.expires_at,
                now,
            ));
            self.0
                .store
                .save_flow(&FlowRecord {
                    body: FlowBody::Login(replacement.clone()),
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
        match self.authenticate(&mut flow, body, ctx, now).await {
            Ok(done) => Ok(done),
            Err(Failure::Flow) => {
                flow.updated_at = now;
                if let Some(masked) = csrf_token.as_deref().and_then(crate::csrf::mask) {
                    messages::set_value(&mut flow.ui.nodes, "csrf_token", Value::String(masked));
                }
                self.0
                    .store
                    .save_flow(&FlowRecord {
                        body: FlowBody::Login(flow.clone()),
                        csrf_token,
                        context: None,
                    })
                    .await?;
                Err(CoreError::FlowInvalid(Box::new(FlowBody::Login(flow))))
            }
            Err(Failure::Core(e)) => Err(e),
        }
    }

    async fn authenticate(
        &self,
        flow: &mut LoginFlow,
        body: Result<Value, String>,
        ctx: &SubmitContext,
        now: DateTime<Utc>,
    ) -> Result<LoginSuccess, Failure> {
        let (token, client) = (ctx.token.as_ref(), &ctx.client);
        let fail = |flow: &mut LoginFlow, msg| {
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
        let value = match body {
            Ok(v) => v,
            Err(e) => return Err(fail(flow, messages::generic(&e))),
        };
        let submission = match LoginSubmission::from_value(&value) {
            Ok(s) => s,
            Err(e) => return Err(fail(flow, messages::generic(&e))),
        };
        let current = active_session(&self.0, token, now).await?;
        if current.is_some() && !flow.refresh && flow.requested_aal <= Aal::Aal1 {
            if flow.flow_type == FlowType::Browser && ctx.navigation {
                return Err(Failure::Core(CoreError::SessionAlreadyAvailable {
                    registration: false,
                }));
            }
            return Err(fail(
                flow,
                messages::generic(
                    "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?",
                ),
            ));
        }
        if let Some(factor) = submission.method.as_deref().and_then(Factor::parse) {
            if flow.requested_aal < Aal::Aal2 || !second_factor::enabled(&self.0, factor) {
                return Err(fail(flow, messages::login_no_strategy()));
            }
            return self
                .second_factor(flow, factor, &value, current, ctx, now)
                .await;
        }
        if submission.method.as_deref() != Some("password")
            || !self.0.settings.password_enabled
            || flow.requested_aal >= Aal::Aal2
        {
            return Err(fail(flow, messages::login_no_strategy()));
        }
        flow.active = Some("password".into());
        let identifier = submission.identifier.unwrap_or_default();
        messages::set_value(
            &mut flow.ui.nodes,
            "identifier",
            Value::String(identifier.clone()),
        );
        let mut missing = false;
        for (name, empty) in [
            ("identifier", identifier.trim().is_empty()),
            (
                "password",
                submission
                    .password
                    .as_ref()
                    .is_none_or(|p| p.expose().is_empty()),
            ),
        ] {
            if empty {
                missing = true;
                if let Some(n) = messages::node_mut(&mut flow.ui.nodes, name) {
                    n.messages.push(messages::missing(name));
                }
            }
        }
        let Some(password) = submission.password.filter(|_| !missing) else {
            return Err(Failure::Flow);
        };

        let normalized = normalize_identifier(&identifier);
        let found = self
            .0
            .store
            .find_by_identifier(CredentialType::Password, &normalized)
            .await?;
        // Admitted before the password is looked at: during a wait even the right password is
        // refused, and an unknown identifier goes through the very same statements.
        let owner = found.as_ref().map(|(identity, _)| identity.id);
        let throttle = &self.0.throttle;
        let keys = throttle.password_keys(owner, &normalized, client.ip.as_deref());
        let attempt = throttle.admit(&keys, owner, now).await?;
        let Some((identity, credential)) = found else {
            self.0.hasher.verify_dummy(&password).await?;
            return Err(fail(flow, messages::invalid_credentials()));
        };
        let Some(hash) = credential.hashed_password() else {
            self.0.hasher.verify_dummy(&password).await?;
            return Err(fail(flow, messages::invalid_credentials()));
        };
        if !self.0.hasher.verify(&password, hash).await? {
            return Err(fail(flow, messages::invalid_credentials()));
        }
        attempt.succeeded(now).await?;
        if !identity.is_active() {
            return Err(fail(flow, messages::identity_disabled()));
        }
        if self.0.hasher.needs_rehash(hash) {
            self.rehash(&credential, &password, now).await;
        }

        let amr = AuthenticationMethod {
            method: "password".into(),
            aal: Aal::Aal1,
            completed_at: now,
            provider: None,
        };
        let lifespan = self.0.settings.session_lifespan;
        let (session, token) = match (current, token) {
            (Some((mut session, current_identity)), Some(token))
                if current_identity.id == identity.id =>
            {
                reactivate(&mut session, amr, lifespan, now);
                self.0.store.update_session(&session).await?;
                (session, token.clone())
            }
            _ => {
                let issued = issue_session(&identity, "password", Aal::Aal1, client, lifespan, now);
                self.0.store.insert_session(&issued.session).await?;
                (issued.session, issued.token)
            }
        };
        let show_identity = satisfies(
            self.0.settings.required_aal,
            session.aal,
            identity.available_aal,
        );
        let wire = session.to_wire(
            now,
            show_identity.then_some(&identity),
            &self.0.settings.public_base_url,
        );
        Ok(LoginSuccess {
            body: SuccessfulNativeLogin {
                session_token: Some(token.expose().to_owned()),
                session: wire,
                continue_with: None,
            },
            flow_type: flow.flow_type,
            return_to: flow.return_to.clone(),
            token,
            expires_at: session.expires_at,
            needs_second_factor: !show_identity,
        })
    }

    async fn rehash(
        &self,
        credential: &crate::identity::Credential,
        password: &Password,
        now: DateTime<Utc>,
    ) {
        // A failed migration must not fail the login; the old hash keeps working.
        match self.0.hasher.hash(password).await {
            Ok(new_hash) => {
                let mut updated = credential.clone();
                updated.config["hashed_password"] = Value::String(new_hash);
                updated.updated_at = now;
                if let Err(e) = self.0.store.update_credential_config(&updated).await {
                    tracing::warn!(error = %e, "could not store the re-hashed password");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not re-hash a password"),
        }
    }
}

fn is_named(n: &UiNode, name: &str) -> bool {
    matches!(&n.attributes, sesame_types::UiNodeAttributes::Input(a) if a.name == name)
}

/// Re-activates an existing session after another factor: same id and token, AMR appended.
pub(crate) fn reactivate(
    session: &mut Session,
    amr: AuthenticationMethod,
    lifespan: chrono::Duration,
    now: DateTime<Utc>,
) {
    session.complete_factor(amr);
    session.active = true;
    session.issued_at = now;
    session.expires_at = now + lifespan;
    session.updated_at = now;
}
