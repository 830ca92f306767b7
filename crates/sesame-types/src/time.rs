//! Timestamps as Kratos writes them: RFC 3339 with the fraction trimmed of trailing zeros (Go's
//! `RFC3339Nano`), UTC as `Z`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Formats a timestamp exactly as Go's `time.RFC3339Nano` does for UTC values.
pub fn format(t: &DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // chrono always writes nine digits with `Nanos`; Go trims trailing zeros and drops an empty fraction.
    match s.rfind('.') {
        Some(dot) => {
            let frac = &s[dot + 1..s.len() - 1];
            let trimmed = frac.trim_end_matches('0');
            if trimmed.is_empty() {
                format!("{}Z", &s[..dot])
            } else {
                format!("{}.{}Z", &s[..dot], trimmed)
            }
        }
        None => s,
    }
}

/// Parses an RFC 3339 timestamp into UTC.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

/// `#[serde(with = "sesame_types::time::rfc3339")]` for required timestamps.
pub mod rfc3339 {
    use super::*;

    /// Serialises in Go's `RFC3339Nano` form.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    /// Deserialises any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        super::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "sesame_types::time::rfc3339_opt")]` for optional timestamps.
pub mod rfc3339_opt {
    use super::*;

    /// Serialises `Some` in Go's `RFC3339Nano` form and `None` as `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    /// Deserialises `null` or an RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => super::parse(&s).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fractions_are_trimmed_like_go() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
        assert_eq!(format(&t), "2024-05-01T10:00:00Z");
        let t = t + chrono::Duration::microseconds(123_450);
        assert_eq!(format(&t), "2024-05-01T10:00:00.12345Z");
    }
}
