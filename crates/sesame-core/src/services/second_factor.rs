//! Second factors at login (spec part 2, §3): the `aal=aal2` flow's TOTP and backup-code nodes, and
//! checking a submitted code against the identity's credentials, and completing such a login. A
//! TOTP code and a backup code are each accepted once (DESIGN.md, difference 8).

use super::login::{LoginSuccess, reactivate};
use super::{Deps, Failure, SubmitContext};
use crate::aal::{Aal, satisfies};
use crate::error::CoreError;
use crate::identity::{Credential, CredentialType};
use crate::ids::IdentityId;
use crate::lookup::{self, LookupMatch};
use crate::messages::{self, Input};
use crate::session::Session;
use crate::throttle;
use crate::totp;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sesame_types::{AuthenticationMethod, LoginFlow, SuccessfulNativeLogin};
use sesame_types::{UiNode, UiText};
use sha2::{Digest, Sha256};

/// How long a used TOTP step is remembered: longer than the ±1-step window it could be replayed in.
pub(crate) const TOTP_REPLAY_MEMORY: chrono::Duration = chrono::Duration::minutes(5);

/// How long a used backup code's claim is remembered (the code itself is marked used for good).
pub(crate) const LOOKUP_REPLAY_MEMORY: chrono::Duration = chrono::Duration::days(1);

/// A second factor a login can complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factor {
    /// An authenticator app's code.
    Totp,
    /// A backup recovery code.
    LookupSecret,
}

impl Factor {
    /// The method name (AMR entry, `method` field, node group).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::LookupSecret => "lookup_secret",
        }
    }

    /// The factor a submitted `method` names.
    pub(crate) fn parse(method: &str) -> Option<Self> {
        match method {
            "totp" => Some(Factor::Totp),
            "lookup_secret" => Some(Factor::LookupSecret),
            _ => None,
        }
    }

    fn input(self) -> &'static str {
        match self {
            Factor::Totp => "totp_code",
            Factor::LookupSecret => "lookup_secret",
        }
    }
}

/// Whether the configuration enables `factor`.
pub(crate) fn enabled(deps: &Deps, factor: Factor) -> bool {
    match factor {
        Factor::Totp => deps.settings.totp_enabled,
        Factor::LookupSecret => deps.settings.lookup_secret_enabled,
    }
}

/// The nodes of an `aal=aal2` login flow for an identity with these credentials (§3.1).
pub(crate) fn login_nodes(deps: &Deps, credentials: &[Credential]) -> Vec<UiNode> {
    let has = |kind| credentials.iter().any(|c| c.kind == kind);
    let mut nodes = Vec::new();
    if enabled(deps, Factor::Totp) && has(CredentialType::Totp) {
        nodes.push(code_input(Factor::Totp, 1010006, "Authentication code"));
        nodes.push(submit(Factor::Totp, 1010009, "Use Authenticator"));
    }
    if enabled(deps, Factor::LookupSecret) && has(CredentialType::LookupSecret) {
        nodes.push(code_input(
            Factor::LookupSecret,
            1010007,
            "Backup recovery code",
        ));
        nodes.push(submit(
            Factor::LookupSecret,
            1010010,
            "Use backup recovery code",
        ));
    }
    nodes
}

fn code_input(factor: Factor, id: u32, label: &str) -> UiNode {
    Input {
        group: factor.name(),
        name: factor.input(),
        input_type: "text",
        value: Some(Value::String(String::new())),
        required: true,
        autocomplete: None,
        label: Some(messages::label(id, label, None)),
    }
    .node()
}

fn submit(factor: Factor, id: u32, label: &str) -> UiNode {
    Input {
        group: factor.name(),
        name: "method",
        input_type: "submit",
        value: Some(Value::String(factor.name().to_owned())),
        required: false,
        autocomplete: None,
        label: Some(messages::label(id, label, None)),
    }
    .node()
}

/// Why a submitted code was refused, and where the message goes.
pub(crate) enum Refusal {
    /// On the code's input node.
    Node(&'static str, UiText),
    /// A global message.
    Global(UiText),
}

/// Checks a submitted second factor. On success the credential records its use (backup codes)
/// and the code cannot be used again. Every check of a code is first admitted by the limiter
/// (the identity's second-factor count and the client's address), so a wrong code counts as a
/// failed attempt and a wait or a lock refuses even the right one.
pub(crate) async fn check(
    deps: &Deps,
    factor: Factor,
    identity: IdentityId,
    credentials: &[Credential],
    body: &Value,
    client_ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>, Failure> {
    let admit = || async move {
        let keys = deps
            .throttle
            .account_keys(throttle::SECOND_FACTOR, identity, client_ip);
        deps.throttle.admit(&keys, Some(identity), now).await
    };
    let input = factor.input();
    let submitted = match body.get(input) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if submitted.is_empty() {
        return Ok(Err(Refusal::Node(input, messages::missing(input))));
    }
    match factor {
        Factor::Totp => {
            if submitted.chars().count() < 6 {
                let n = submitted.chars().count() as u64;
                return Ok(Err(Refusal::Node(input, messages::min_length(6, n))));
            }
            let Some(secret) = credentials
                .iter()
                .find(|c| c.kind == CredentialType::Totp)
                .and_then(|c| c.config.get("totp_url"))
                .and_then(Value::as_str)
                .and_then(totp::TotpSecret::from_url)
            else {
                return Ok(Err(Refusal::Global(messages::totp_none())));
            };
            let attempt = admit().await?;
            if claim_totp(deps, identity, &secret, &submitted, now).await? {
                attempt.succeeded(now).await?;
                Ok(Ok(()))
            } else {
                Ok(Err(Refusal::Global(messages::totp_invalid())))
            }
        }
        Factor::LookupSecret => {
            let Some(credential) = credentials
                .iter()
                .find(|c| c.kind == CredentialType::LookupSecret)
            else {
                return Ok(Err(Refusal::Global(messages::lookup_none())));
            };
            let mut codes = stored_codes(credential);
            if codes.is_empty() {
                return Ok(Err(Refusal::Global(messages::lookup_none())));
            }
            let attempt = admit().await?;
            let index = match lookup::find_unused(&codes, &submitted) {
                LookupMatch::Unused(i) => i,
                LookupMatch::Used => return Ok(Err(Refusal::Global(messages::lookup_used()))),
                LookupMatch::Unknown => {
                    return Ok(Err(Refusal::Global(messages::lookup_invalid())));
                }
            };
            // Two concurrent logins with one code: the claim lets exactly one through.
            let key = format!("lookup:{}", short_digest(&submitted));
            if !deps
                .store
                .claim_credential_use(identity, &key, now, now - LOOKUP_REPLAY_MEMORY)
                .await?
            {
                return Ok(Err(Refusal::Global(messages::lookup_used())));
            }
            if let Some(code) = codes.get_mut(index) {
                code.mark_used(now);
            }
            let mut updated = credential.clone();
            updated.config = json!({ "recovery_codes": codes });
            updated.updated_at = now;
            deps.store.update_credential_config(&updated).await?;
            attempt.succeeded(now).await?;
            Ok(Ok(()))
        }
    }
}

/// The backup codes stored on a `lookup_secret` credential.
pub(crate) fn stored_codes(credential: &Credential) -> Vec<lookup::RecoveryCode> {
    credential
        .config
        .get("recovery_codes")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn short_digest(s: &str) -> String {
    Sha256::digest(s.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a TOTP code and claims its time step, so that the same code cannot be used twice.
pub(crate) async fn claim_totp(
    deps: &Deps,
    identity: IdentityId,
    secret: &totp::TotpSecret,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, Failure> {
    let Some(step) = totp::verify(secret, code, now) else {
        return Ok(false);
    };
    // The key names the secret by a digest prefix, so a new secret's codes are not blocked by
    // an old one's; the secret itself never leaves the credential.
    let key = format!("totp:{}:{step}", short_digest(secret.base32()));
    Ok(deps
        .store
        .claim_credential_use(identity, &key, now, now - TOTP_REPLAY_MEMORY)
        .await?)
}

impl super::LoginService {
    /// Completes an `aal=aal2` flow with a TOTP or backup code: the same session (id and token)
    /// gains the factor's AMR entry and reaches `aal2` (spec part 2, §3.5).
    pub(super) async fn second_factor(
        &self,
        flow: &mut LoginFlow,
        factor: Factor,
        body: &Value,
        current: Option<(Session, crate::identity::Identity)>,
        ctx: &SubmitContext,
        now: DateTime<Utc>,
    ) -> Result<LoginSuccess, Failure> {
        flow.active = Some(factor.name().into());
        let (Some((mut session, identity)), Some(token)) = (current, ctx.token.as_ref()) else {
            return Err(Failure::Core(CoreError::Aal1Required));
        };
        let credentials = self.0.store.credentials(&[identity.id]).await?;
        let client_ip = ctx.client.ip.as_deref();
        let checked = check(
            &self.0,
            factor,
            identity.id,
            &credentials,
            body,
            client_ip,
            now,
        )
        .await?;
        if let Err(refusal) = checked {
            // The code's input is emptied after every failure, as in Kratos.
            for name in ["totp_code", "lookup_secret"] {
                if let Some(UiNode {
                    attributes: sesame_types::UiNodeAttributes::Input(a),
                    ..
                }) = messages::node_mut(&mut flow.ui.nodes, name)
                {
                    a.value = None;
                }
            }
            match refusal {
                Refusal::Node(name, message) => {
                    match messages::node_mut(&mut flow.ui.nodes, name) {
                        Some(node) => node.messages.push(message),
                        None => flow.ui.messages.push(message),
                    }
                }
                Refusal::Global(message) => flow.ui.messages.push(message),
            }
            return Err(Failure::Flow);
        }
        let amr = AuthenticationMethod {
            method: factor.name().into(),
            aal: Aal::Aal2,
            completed_at: now,
            provider: None,
        };
        reactivate(&mut session, amr, self.0.settings.session_lifespan, now);
        self.0.store.update_session(&session).await?;
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
            token: token.clone(),
            expires_at: session.expires_at,
            needs_second_factor: !show_identity,
        })
    }
}
