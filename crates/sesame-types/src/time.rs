//! Timestamps as Kratos writes them: RFC 3339 with the fraction trimmed of trailing zeros (Go's
//! `RFC3339Nano`), UTC as `Z`.
//!
//! Formatting and parsing are written out by hand for the common case (a UTC timestamp between
//! years 0 and 9999): every whoami answer carries a dozen timestamps, and chrono's general-purpose
//! formatter and parser cost several times more than the rest of the rendering. Anything unusual
//! falls back to chrono.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Longest output: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const MAX_LEN: usize = 30;

/// Writes `n` as `width` decimal digits at `at`.
fn put(buf: &mut [u8; MAX_LEN], at: usize, n: u32, width: usize) {
    let mut n = n;
    for k in (0..width).rev() {
        buf[at + k] = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Writes `t` into `buf` in Go's `RFC3339Nano` form and returns the used length.
fn write(t: &DateTime<Utc>, buf: &mut [u8; MAX_LEN]) -> Option<usize> {
    // Through the naive value once: each accessor of a `DateTime` applies the offset again.
    let utc = t.naive_utc();
    let (date, time) = (utc.date(), utc.time());
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    put(buf, 0, year as u32, 4);
    buf[4] = b'-';
    put(buf, 5, date.month(), 2);
    buf[7] = b'-';
    put(buf, 8, date.day(), 2);
    buf[10] = b'T';
    put(buf, 11, time.hour(), 2);
    buf[13] = b':';
    put(buf, 14, time.minute(), 2);
    buf[16] = b':';
    put(buf, 17, time.second(), 2);
    let mut len = 19;
    let nanos = time.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        buf[19] = b'.';
        put(buf, 20, nanos, 9);
        len = 29;
        while buf[len - 1] == b'0' {
            len -= 1;
        }
    }
    buf[len] = b'Z';
    Some(len + 1)
}

/// Formats a timestamp exactly as Go's `time.RFC3339Nano` does for UTC values.
pub fn format(t: &DateTime<Utc>) -> String {
    let mut buf = [0u8; MAX_LEN];
    match write(t, &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(s) => s.to_owned(),
        None => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// Appends `t` to `out` exactly as [`format()`] writes it, without an allocation of its own.
pub fn append(t: &DateTime<Utc>, out: &mut Vec<u8>) {
    let mut buf = [0u8; MAX_LEN];
    match write(t, &mut buf) {
        Some(n) => out.extend_from_slice(&buf[..n]),
        None => out.extend_from_slice(format(t).as_bytes()),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
    }
    Some(n)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)`, the forms Sesame writes and stores.
fn parse_fast(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if rest.first() == Some(&b'.') {
        let frac_len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac_len == 0 || frac_len > 9 {
            return None;
        }
        nanos = digits(&rest[1..=frac_len])? * 10u32.pow(9 - frac_len as u32);
        rest = &rest[1 + frac_len..];
    }
    if !matches!(rest, b"Z" | b"z" | b"+00:00" | b"-00:00") {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(
        date.and_hms_nano_opt(hour, minute, second, nanos)?
            .and_utc(),
    )
}

/// Parses an RFC 3339 timestamp into UTC.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match parse_fast(s) {
        Some(t) => Ok(t),
        None => DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)),
    }
}

/// `#[serde(with = "sesame_types::time::rfc3339")]` for required timestamps.
pub mod rfc3339 {
    use super::*;

    /// Serialises in Go's `RFC3339Nano` form.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; MAX_LEN];
        match write(t, &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&super::format(t)),
        }
    }

    /// Deserialises any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "sesame_types::time::rfc3339_opt")]` for optional timestamps.
pub mod rfc3339_opt {
    use super::*;

    /// Serialises `Some` in Go's `RFC3339Nano` form and `None` as `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    /// Deserialises `null` or an RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
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
        let t = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(format(&t), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn the_fast_paths_agree_with_chrono() {
        let base = Utc.with_ymd_and_hms(2026, 11, 26, 1, 43, 56).unwrap();
        for nanos in [0, 1, 100_000, 106_684_000, 999_999_999] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            let ours = format(&t);
            let chrono_text = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            assert_eq!(parse(&ours).unwrap(), t, "{ours}");
            assert_eq!(parse(&chrono_text).unwrap(), t);
            assert_eq!(
                parse(&t.to_rfc3339_opts(SecondsFormat::Nanos, false)).unwrap(),
                t
            );
            assert_eq!(
                DateTime::parse_from_rfc3339(&ours)
                    .unwrap()
                    .with_timezone(&Utc),
                t
            );
        }
        assert_eq!(
            parse("2024-05-01T12:00:00+02:00").unwrap(),
            Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
        );
        assert!(parse("2024-13-01T00:00:00Z").is_err());
        assert!(parse("2023-02-29T00:00:00Z").is_err());
        assert!(parse("2024-02-29T00:00:00Z").is_ok());
        assert!(parse("2024-05-01T24:00:00Z").is_err());
        assert!(parse("2024-05-0aT00:00:00Z").is_err());
        assert!(parse("2024-05-01T00:00:00").is_err());
        assert!(parse("garbage").is_err());
    }

    #[test]
    fn formatting_and_parsing_agree_with_chrono_across_the_range() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Years 0000 to 9999, any nanosecond, every trimming of the fraction.
            let secs = (x % 315_537_897_600) as i64 - 62_167_219_200;
            let nanos = match x % 4 {
                0 => 0,
                1 => (x >> 20) as u32 % 1_000 * 1_000_000,
                2 => (x >> 20) as u32 % 1_000_000 * 1_000,
                _ => (x >> 20) as u32 % 1_000_000_000,
            };
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let ours = format(&t);
            let fraction = format!("{nanos:09}");
            let fraction = fraction.trim_end_matches('0');
            let go = format!(
                "{}{}{fraction}Z",
                t.format("%Y-%m-%dT%H:%M:%S"),
                if fraction.is_empty() { "" } else { "." }
            );
            assert_eq!(ours, go);
            let mut appended = b"x".to_vec();
            append(&t, &mut appended);
            assert_eq!(&appended[1..], ours.as_bytes());
            assert_eq!(parse(&ours).unwrap(), t, "{ours}");
            assert_eq!(
                parse(&t.to_rfc3339_opts(SecondsFormat::Micros, false)).unwrap(),
                t.with_nanosecond(nanos / 1_000 * 1_000).unwrap()
            );
        }
    }
}
