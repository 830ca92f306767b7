use super::*;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use sesame_core::aal::Aal;
use sesame_core::types::{
    AuthenticationMethod, Device, IdentityState, RecoveryAddress, VerifiableAddress,
};
use sesame_core::{LogoutToken, SessionId, SessionToken};

const BASE: &str = "http://127.0.0.1:4433/";

/// Every character class that JSON or Go escaping treats specially.
const TRICKY: &str = "a\"b\\c/d\u{0}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1f}\u{7f} <x>&amp; \u{2028}\u{2029}\u{2027}\u{202a}\u{e2}€☃😀 ü";

fn at(nanos: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 1, 43, 56).unwrap()
        + chrono::Duration::nanoseconds(i64::from(nanos))
}

fn identity(traits: serde_json::Value) -> Identity {
    Identity {
        id: IdentityId::new(),
        schema_id: "default".into(),
        traits,
        state: IdentityState::Active,
        state_changed_at: Some(at(1_000)),
        metadata_public: None,
        metadata_admin: Some(json!({"secret": "never shown"})),
        external_id: None,
        organization_id: None,
        verifiable_addresses: vec![VerifiableAddress {
            id: uuid::Uuid::new_v4(),
            value: "alice@example.com".into(),
            verified: false,
            via: "email".into(),
            status: "pending".into(),
            verified_at: None,
            created_at: at(0),
            updated_at: at(123_456_000),
        }],
        recovery_addresses: vec![RecoveryAddress {
            id: uuid::Uuid::new_v4(),
            value: "alice@example.com".into(),
            via: "email".into(),
            created_at: at(0),
            updated_at: at(0),
        }],
        available_aal: Aal::Aal1,
        created_at: at(0),
        updated_at: at(999_999_999),
    }
}

fn session(identity: &Identity) -> Session {
    let token = SessionToken::generate();
    Session {
        id: SessionId::new(),
        identity_id: identity.id,
        token_digest: token.digest(),
        logout_token_digest: LogoutToken::derive(&token).digest(),
        active: true,
        aal: Aal::Aal1,
        authentication_methods: vec![AuthenticationMethod {
            method: "password".into(),
            aal: Aal::Aal1,
            completed_at: at(106_684_000),
            provider: None,
        }],
        devices: vec![Device {
            id: uuid::Uuid::new_v4(),
            ip_address: Some("127.0.0.1".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            location: Some(String::new()),
        }],
        issued_at: at(100),
        expires_at: at(100) + chrono::Duration::days(1),
        authenticated_at: at(106_684_000),
        created_at: at(100),
        updated_at: at(100),
    }
}

/// The reference: the wire session through the generic encoder.
fn generic(session: &Session, identity: &Identity, now: DateTime<Utc>) -> String {
    let wire = session.to_wire(now, Some(identity), BASE);
    String::from_utf8(crate::json::to_vec(&wire).unwrap()).unwrap()
}

fn direct(
    session: &Session,
    identity: &Identity,
    now: DateTime<Utc>,
    kept: &IdentityJson,
) -> String {
    let active = session.is_active(now, Some(identity));
    String::from_utf8(body(session, active, identity, kept, BASE)).unwrap()
}

fn assert_same(session: &Session, identity: &Identity) {
    let now = at(5_000);
    let kept = IdentityJson::new(8);
    let expected = generic(session, identity, now);
    assert_eq!(direct(session, identity, now, &kept), expected, "rendered");
    assert_eq!(direct(session, identity, now, &kept), expected, "kept");
}

#[test]
fn a_registered_users_body_is_the_generic_encoders() {
    let i = identity(json!({"email": "alice@example.com"}));
    assert_same(&session(&i), &i);
}

#[test]
fn every_field_and_every_escape_matches_the_generic_encoder() {
    let mut i = identity(json!({
        "email": "bob@example.com",
        "name": {"first": TRICKY, "last": "<&>"},
        "n": [1, -2, 3.5, 1e21, 0.1, true, null, {}, []],
        TRICKY: "key",
    }));
    i.metadata_public = Some(json!({"html": "<b>&amp;</b>", "x": TRICKY}));
    i.external_id = Some(TRICKY.into());
    i.organization_id = Some(uuid::Uuid::new_v4());
    i.state = IdentityState::Inactive;
    i.verifiable_addresses[0].verified = true;
    i.verifiable_addresses[0].status = "completed".into();
    i.verifiable_addresses[0].verified_at = Some(at(7));
    let mut s = session(&i);
    s.aal = Aal::Aal2;
    s.authentication_methods.push(AuthenticationMethod {
        method: TRICKY.into(),
        aal: Aal::Aal2,
        completed_at: Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
        provider: Some("<provider>".into()),
    });
    s.devices.push(Device {
        id: uuid::Uuid::new_v4(),
        ip_address: None,
        user_agent: Some(TRICKY.into()),
        location: None,
    });
    assert_same(&s, &i);

    // Nothing listed, and an expired session (`active: false`).
    s.authentication_methods.clear();
    s.devices.clear();
    s.expires_at = at(0);
    i.recovery_addresses.clear();
    i.verifiable_addresses.clear();
    assert_same(&s, &i);
}

#[test]
fn strings_are_escaped_exactly_as_the_generic_encoder_does() {
    // A small deterministic generator over the interesting characters.
    let alphabet: Vec<char> = TRICKY
        .chars()
        .chain("\u{2028}\u{2029}\u{e2}\u{80}".chars())
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for len in 0..400 {
        let s: String = (0..len % 37)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % alphabet.len() as u64) as usize]
            })
            .collect();
        let mut ours = Vec::new();
        push_str(&mut ours, &s);
        let mut reference = crate::json::to_vec(&s).unwrap();
        reference.pop();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(reference).unwrap(),
            "{s:?}"
        );
    }
}

#[test]
fn a_changed_identity_is_rendered_again() {
    let kept = IdentityJson::new(8);
    let now = at(5_000);
    let mut i = identity(json!({"email": "carol@example.com"}));
    let s = session(&i);
    let first = direct(&s, &i, now, &kept);
    assert!(first.contains("carol@example.com"));
    i.traits = json!({"email": "carol@example.org"});
    i.verifiable_addresses[0].value = "carol@example.org".into();
    let second = direct(&s, &i, now, &kept);
    assert_eq!(second, generic(&s, &i, now));
    assert!(!second.contains("carol@example.com"), "{second}");
    i.state = IdentityState::Inactive;
    assert_eq!(direct(&s, &i, now, &kept), generic(&s, &i, now));
    assert_eq!(kept.len(), 1);
}

#[test]
fn at_most_capacity_identities_are_kept() {
    let kept = IdentityJson::new(3);
    let now = at(5_000);
    for n in 0..10 {
        let i = identity(json!({ "email": format!("user{n}@example.com") }));
        let s = session(&i);
        assert_eq!(direct(&s, &i, now, &kept), generic(&s, &i, now));
        assert!(kept.len() <= 3);
    }
    assert!(!kept.is_empty());
}
