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

use crate::json::SUCCESS_CONTENT_TYPE;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use sesame_core::IdentityId;
use sesame_core::identity::{Identity, IdentityView};
use sesame_core::session::Session;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// Identities whose JSON is kept: about 2 KB each (the identity and its JSON), so ≤ 4 MB.
pub const IDENTITY_JSON_ENTRIES: usize = 2048;

/// The public JSON of recently seen identities, each with the identity it was rendered from.
#[derive(Debug)]
pub struct IdentityJson {
    entries: RwLock<HashMap<IdentityId, Arc<Rendered>>>,
    capacity: usize,
}

#[derive(Debug)]
struct Rendered {
    identity: Identity,
    json: Vec<u8>,
}

impl IdentityJson {
    /// Keeps at most `capacity` identities.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Appends the identity's public JSON (as whoami shows it) to `out`: the kept rendering when it
    /// was made from an equal identity, else a new one, which is kept.
    pub fn append(&self, identity: &Identity, public_base_url: &str, out: &mut Vec<u8>) {
        let kept = self
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&identity.id)
            .cloned();
        if let Some(kept) = kept.filter(|k| k.identity == *identity) {
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
        let rendered = Arc::new(Rendered {
            identity: identity.clone(),
            json,
        });
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        // Any one makes room: a live identity is rendered again on its next answer.
        if entries.len() >= self.capacity
            && !entries.contains_key(&identity.id)
            && let Some(old) = entries.keys().next().copied()
        {
            entries.remove(&old);
        }
        entries.insert(identity.id, rendered);
    }

    /// How many identities are kept.
    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a byte of a string needs: 0 nothing, `u` a `\u00XX` escape, `G` Go's `\u00XX` escape of
/// `<`, `>`, `&`, `E` a look at the next bytes (U+2028 and U+2029 start with 0xE2), anything
/// else the character of its short escape.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'<' as usize] = b'G';
    t[b'>' as usize] = b'G';
    t[b'&' as usize] = b'G';
    t[0xE2] = b'E';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string exactly as [`crate::json::to_vec`] writes it: serde_json's escapes
/// plus Go's (`<`, `>`, `&`, U+2028, U+2029).
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let kind = ESCAPE[usize::from(b)];
        if kind == 0 {
            i += 1;
            continue;
        }
        let line_separator = kind == b'E'
            && bytes.get(i + 1) == Some(&0x80)
            && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9));
        if kind == b'E' && !line_separator {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match kind {
            b'u' | b'G' => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xF)]);
                i += 1;
            }
            b'E' => {
                out.extend_from_slice(if bytes[i + 2] == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                i += 3;
            }
            short => {
                out.push(b'\\');
                out.push(short);
                i += 1;
            }
        }
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
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
    /// Renders `session` (`active` at the time of the request) and `identity`.
    pub fn new(
        session: &Session,
        active: bool,
        identity: &Arc<Identity>,
        kept: &IdentityJson,
        public_base_url: &str,
    ) -> Self {
        let mut body = body(session, active, identity, kept, public_base_url);
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
