//! whoami's 200 body, written straight into one buffer — the same bytes as serialising the wire
//! session through [`crate::json`], at a fraction of the cost (the tests below compare the two).
//!
//! Two things make the generic path expensive on the hot path: serde's per-field machinery with a
//! second escaping pass for Go's extra escapes, and the identity, which is most of the body and
//! mostly strings (traits, addresses, eight timestamps). The identity's public JSON therefore
//! is rendered once per identity version and kept ([`IdentityJson`]); a version is the identity
//! itself, compared field by field on every use, so an answer can never show an outdated identity
//! whatever wrote it. The session's own fields are written here directly.
//!
//! With the whoami cache on, a cached answer is not rendered again at all: the whole rendering
//! ([`RenderedAnswer`]) is kept in the cache entry's memo and dies with the entry.

use crate::json::{SUCCESS_CONTENT_TYPE, push_str};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use sesame_core::IdentityId;
use sesame_core::identity::{Identity, IdentityView};
use sesame_core::kept::Kept;
use sesame_core::session::Session;
use std::sync::Arc;

/// Identities whose JSON is kept: about 2 KB each (the identity and its JSON), so ≤ 4 MB.
pub const IDENTITY_JSON_ENTRIES: usize = 2048;

/// The public JSON of recently seen identities, each with the identity it was rendered from.
#[derive(Debug)]
pub struct IdentityJson(Kept<IdentityId, Rendered>);

#[derive(Debug)]
struct Rendered {
    identity: Identity,
    json: Vec<u8>,
}

impl IdentityJson {
    /// Keeps at most `capacity` identities.
    pub fn new(capacity: usize) -> Self {
        Self(Kept::new(capacity))
    }

    /// Appends the identity's public JSON (as whoami shows it) to `out`: the kept rendering when it
    /// was made from an equal identity, else a new one, which is kept.
    pub fn append(&self, identity: &Identity, public_base_url: &str, out: &mut Vec<u8>) {
        if let Some(kept) = self.0.get(&identity.id).filter(|k| k.identity == *identity) {
            out.extend_from_slice(&kept.json);
            return;
        }
        let wire = identity.to_wire(public_base_url, IdentityView::Public, None);
        let Ok(mut json) = crate::json::to_vec(&wire) else {
            // Unreachable (the wire identity always serialises); `null` keeps the body valid.
            out.extend_from_slice(b"null");
            return;
        };
        json.pop(); // the encoder's trailing newline
        out.extend_from_slice(&json);
        self.0.keep(
            identity.id,
            Arc::new(Rendered {
                identity: identity.clone(),
                json,
            }),
        );
    }

    /// How many identities are kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_uuid(out: &mut Vec<u8>, id: &uuid::Uuid) {
    let mut buf = uuid::Uuid::encode_buffer();
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    out.push(b'"');
}

fn push_time(out: &mut Vec<u8>, t: &chrono::DateTime<chrono::Utc>) {
    out.push(b'"');
    sesame_core::types::time::append(t, out);
    out.push(b'"');
}

/// The whoami body (the wire session with its identity expanded, devices listed and a trailing
/// newline), in the field order of [`sesame_core::types::Session`].
pub fn body(
    session: &Session,
    active: bool,
    identity: &Identity,
    kept: &IdentityJson,
    public_base_url: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1536);
    out.extend_from_slice(b"{\"id\":");
    push_uuid(&mut out, &session.id.0);
    out.extend_from_slice(if active {
        b",\"active\":true,\"expires_at\":"
    } else {
        b",\"active\":false,\"expires_at\":"
    });
    push_time(&mut out, &session.expires_at);
    out.extend_from_slice(b",\"authenticated_at\":");
    push_time(&mut out, &session.authenticated_at);
    out.extend_from_slice(b",\"authenticator_assurance_level\":\"");
    out.extend_from_slice(session.aal.as_str().as_bytes());
    out.extend_from_slice(b"\",\"authentication_methods\":[");
    for (i, m) in session.authentication_methods.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"method\":");
        push_str(&mut out, &m.method);
        out.extend_from_slice(b",\"aal\":\"");
        out.extend_from_slice(m.aal.as_str().as_bytes());
        out.extend_from_slice(b"\",\"completed_at\":");
        push_time(&mut out, &m.completed_at);
        if let Some(provider) = &m.provider {
            out.extend_from_slice(b",\"provider\":");
            push_str(&mut out, provider);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"issued_at\":");
    push_time(&mut out, &session.issued_at);
    out.extend_from_slice(b",\"identity\":");
    kept.append(identity, public_base_url, &mut out);
    out.extend_from_slice(b",\"devices\":[");
    for (i, d) in session.devices.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        push_uuid(&mut out, &d.id);
        out.extend_from_slice(b",\"ip_address\":");
        push_opt_str(&mut out, d.ip_address.as_deref());
        out.extend_from_slice(b",\"user_agent\":");
        push_opt_str(&mut out, d.user_agent.as_deref());
        out.extend_from_slice(b",\"location\":");
        push_opt_str(&mut out, d.location.as_deref());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
    out
}

/// whoami's answer rendered, with the identity it was rendered from. With the whoami cache on it is
/// kept in the cache entry's [`sesame_core::whoami_cache::Memo`], so that a cached answer is not
/// rendered again: the entry's session never changes, and the identity is compared by pointer.
#[derive(Debug)]
pub struct RenderedAnswer {
    /// The identity the body shows.
    pub identity: Arc<Identity>,
    /// The 200 body.
    pub body: Bytes,
    /// `X-Kratos-Authenticated-Identity-Id`.
    pub identity_id: Option<HeaderValue>,
}

impl RenderedAnswer {
    /// Renders whoami's answer: `session`, which whoami found active, and `identity`.
    pub fn new(
        session: &Session,
        identity: &Arc<Identity>,
        kept: &IdentityJson,
        public_base_url: &str,
    ) -> Self {
        let mut body = body(session, true, identity, kept, public_base_url);
        // Kept for as long as the cache keeps the answer: without the growth slack.
        body.shrink_to_fit();
        Self {
            identity: identity.clone(),
            body: Bytes::from(body),
            identity_id: HeaderValue::from_str(&identity.id.to_string()).ok(),
        }
    }
}

/// The 200 response around whoami's body.
pub fn response(body: impl Into<Body>) -> Response {
    let mut res = Response::new(body.into());
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SUCCESS_CONTENT_TYPE),
    );
    res
}

#[cfg(test)]
#[path = "whoami_body_tests.rs"]
mod tests;
