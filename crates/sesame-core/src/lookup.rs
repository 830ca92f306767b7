//! Backup recovery codes (Kratos's `lookup_secret` method): generating them, their stored shape,
//! the `lookup_secret_codes` text node that shows them, and matching a submitted code.
//!
//! Pure functions: no storage, no clock (time is passed in).

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sesame_types::{UiNode, UiNodeAttributes, UiNodeMeta};
use std::fmt;
use subtle::ConstantTimeEq;

/// Codes per set.
pub const CODE_COUNT: usize = 12;
/// Characters per code.
pub const CODE_LEN: usize = 8;
const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh set of 12 codes, 8 characters from `[a-z0-9]` each, from the OS CSPRNG.
pub fn generate_codes() -> Vec<String> {
    (0..CODE_COUNT)
        .map(|_| {
            (0..CODE_LEN)
                .map(|_| char::from(ALPHABET[OsRng.gen_range(0..ALPHABET.len())]))
                .collect()
        })
        .collect()
}

/// One stored code: `{"code":"abcd1234","used_at":null}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCode {
    /// The code.
    pub code: String,
    /// When it was used (UTC, whole seconds when set by Sesame); `null` while unused.
    #[serde(default, with = "sesame_types::time::rfc3339_opt")]
    pub used_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCode")
            .field("code", &"***")
            .field("used_at", &self.used_at)
            .finish()
    }
}

impl RecoveryCode {
    /// An unused code.
    pub fn unused(code: String) -> Self {
        Self {
            code,
            used_at: None,
        }
    }

    /// Marks the code used at `now`, rounded to the second as Kratos does
    /// (`time.Now().UTC().Round(time.Second)`).
    pub fn mark_used(&mut self, now: DateTime<Utc>) {
        let secs = now.timestamp() + i64::from(now.timestamp_subsec_nanos() >= 500_000_000);
        self.used_at = Some(DateTime::from_timestamp(secs, 0).unwrap_or(now));
    }
}

/// The outcome of looking a submitted code up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupMatch {
    /// It matches the unused code at this index.
    Unused(usize),
    /// It matches only codes that were used already (4000012).
    Used,
    /// It matches no code (4000016).
    Unknown,
}

/// Looks `submitted` up exactly (case-sensitive, no trimming, as Kratos compares). Every code is
/// compared in constant time, so timing tells nothing about which or how many codes matched.
pub fn find_unused(codes: &[RecoveryCode], submitted: &str) -> LookupMatch {
    let mut unused = None;
    let mut used = false;
    for (i, c) in codes.iter().enumerate() {
        let equal = bool::from(c.code.as_bytes().ct_eq(submitted.as_bytes()));
        match (equal, c.used_at.is_some()) {
            (true, false) if unused.is_none() => unused = Some(i),
            (true, true) => used = true,
            _ => {}
        }
    }
    match (unused, used) {
        (Some(i), _) => LookupMatch::Unused(i),
        (None, true) => LookupMatch::Used,
        (None, false) => LookupMatch::Unknown,
    }
}

/// `t` as Go's `time.Time.String()` prints a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`
/// (the fraction trimmed of trailing zeros, and dropped when zero).
fn go_default_format(t: &DateTime<Utc>) -> String {
    let rfc3339 = sesame_types::time::format(t);
    format!(
        "{} +0000 UTC",
        rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// A `uiText` as JSON, fields in Kratos's order.
fn ui_text(id: u32, text: &str, context: Value) -> Value {
    json!({ "id": id, "text": text, "type": "info", "context": context })
}

/// 1050009 for an unused code, 1050014 for a used one.
fn code_message(code: &RecoveryCode) -> (String, Value) {
    match &code.used_at {
        None => (
            code.code.clone(),
            ui_text(1050009, &code.code, json!({ "secret": code.code })),
        ),
        Some(t) => (
            "used".to_owned(),
            ui_text(
                1050014,
                &format!("Secret was used at {}", go_default_format(t)),
                json!({
                    "used_at": sesame_types::time::format(t),
                    "used_at_unix": t.timestamp(),
                }),
            ),
        ),
    }
}

/// The `lookup_secret_codes` text node: text 1050015 listing the codes (`used` for used ones)
/// with one message per code in `context.secrets`, label 1050010.
pub fn codes_node(codes: &[RecoveryCode]) -> UiNode {
    let (words, secrets): (Vec<String>, Vec<Value>) = codes.iter().map(code_message).unzip();
    let mut attributes = Map::new();
    attributes.insert(
        "text".into(),
        ui_text(
            1050015,
            &words.join(", "),
            json!({ "secrets": Value::Array(secrets) }),
        ),
    );
    attributes.insert("id".into(), Value::String("lookup_secret_codes".into()));
    attributes.insert("node_type".into(), Value::String("text".into()));
    UiNode {
        kind: "text".into(),
        group: "lookup_secret".into(),
        attributes: UiNodeAttributes::Other(attributes),
        messages: Vec::new(),
        meta: UiNodeMeta {
            label: Some(crate::messages::label(
                1050010,
                "These are your back up recovery codes. Please keep them in a safe place!",
                None,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn used(code: &str, t: DateTime<Utc>) -> RecoveryCode {
        RecoveryCode {
            code: code.into(),
            used_at: Some(t),
        }
    }

    #[test]
    fn a_set_is_twelve_distinct_codes_of_eight_lowercase_alphanumerics() {
        let codes = generate_codes();
        assert_eq!(codes.len(), 12);
        for c in &codes {
            assert_eq!(c.len(), 8);
            assert!(
                c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{c}"
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 12);
        assert_ne!(codes, generate_codes());
    }

    #[test]
    fn stored_codes_have_kratos_json_shape() {
        let t = Utc.with_ymd_and_hms(2021, 8, 17, 11, 32, 39).unwrap();
        let codes = vec![RecoveryCode::unused("abcd1234".into()), used("efgh5678", t)];
        let text = serde_json::to_string(&codes).unwrap();
        assert_eq!(
            text,
            r#"[{"code":"abcd1234","used_at":null},{"code":"efgh5678","used_at":"2021-08-17T11:32:39Z"}]"#
        );
        let back: Vec<RecoveryCode> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, codes);
        // Imported credentials may omit `used_at` or carry fractions and offsets.
        let imported: Vec<RecoveryCode> = serde_json::from_str(
            r#"[{"code":"a"},{"code":"b","used_at":"2021-08-17T13:32:39.5+02:00"}]"#,
        )
        .unwrap();
        assert_eq!(imported[0].used_at, None);
        assert_eq!(
            imported[1].used_at,
            Some(t + chrono::Duration::milliseconds(500))
        );
    }

    #[test]
    fn marking_used_rounds_to_the_second() {
        let t = Utc.with_ymd_and_hms(2021, 8, 17, 11, 32, 39).unwrap();
        let mut c = RecoveryCode::unused("abcd1234".into());
        c.mark_used(t + chrono::Duration::milliseconds(499));
        assert_eq!(c.used_at, Some(t));
        c.mark_used(t + chrono::Duration::milliseconds(500));
        assert_eq!(c.used_at, Some(t + chrono::Duration::seconds(1)));
    }

    #[test]
    fn debug_does_not_print_codes() {
        let c = RecoveryCode::unused("abcd1234".into());
        let printed = format!("{c:?}");
        assert!(!printed.contains("abcd1234"), "{printed}");
        assert!(printed.contains("***"));
    }

    #[test]
    fn the_codes_node_matches_the_spec_shape() {
        let t = Utc.with_ymd_and_hms(2021, 8, 17, 11, 32, 39).unwrap();
        let node = codes_node(&[RecoveryCode::unused("abcd1234".into()), used("efgh5678", t)]);
        assert_eq!(
            serde_json::to_string(&node).unwrap(),
            concat!(
                r#"{"type":"text","group":"lookup_secret","attributes":{"text":{"id":1050015,"text":"abcd1234, used","type":"info","context":{"secrets":["#,
                r#"{"id":1050009,"text":"abcd1234","type":"info","context":{"secret":"abcd1234"}},"#,
                r#"{"id":1050014,"text":"Secret was used at 2021-08-17 11:32:39 +0000 UTC","type":"info","context":{"used_at":"2021-08-17T11:32:39Z","used_at_unix":1629199959}}]}},"#,
                r#""id":"lookup_secret_codes","node_type":"text"},"#,
                r#""messages":[],"meta":{"label":{"id":1050010,"text":"These are your back up recovery codes. Please keep them in a safe place!","type":"info"}}}"#,
            )
        );
    }

    #[test]
    fn used_times_print_like_go_with_fractions_trimmed() {
        let t = Utc.with_ymd_and_hms(2021, 8, 17, 11, 32, 39).unwrap();
        assert_eq!(go_default_format(&t), "2021-08-17 11:32:39 +0000 UTC");
        let t = t + chrono::Duration::microseconds(120_000);
        assert_eq!(go_default_format(&t), "2021-08-17 11:32:39.12 +0000 UTC");
    }

    #[test]
    fn lookup_is_exact_and_tells_used_from_unknown() {
        let t = Utc.with_ymd_and_hms(2021, 8, 17, 11, 32, 39).unwrap();
        let codes = [
            used("efgh5678", t),
            RecoveryCode::unused("abcd1234".into()),
            RecoveryCode::unused("zzzz9999".into()),
        ];
        assert_eq!(find_unused(&codes, "abcd1234"), LookupMatch::Unused(1));
        assert_eq!(find_unused(&codes, "zzzz9999"), LookupMatch::Unused(2));
        assert_eq!(find_unused(&codes, "efgh5678"), LookupMatch::Used);
        for other in [
            "ABCD1234",
            " abcd1234",
            "abcd1234 ",
            "abcd123",
            "",
            "nope0000",
        ] {
            assert_eq!(
                find_unused(&codes, other),
                LookupMatch::Unknown,
                "{other:?}"
            );
        }
        assert_eq!(find_unused(&[], "abcd1234"), LookupMatch::Unknown);
    }
}
