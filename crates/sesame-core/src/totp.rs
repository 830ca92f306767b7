//! The TOTP second factor exactly as Kratos configures it (RFC 6238 over RFC 4226: HMAC-SHA1,
//! 6 digits, 30 s steps, ±1 step of skew): secrets, `otpauth://` URLs, their QR code as a PNG data
//! URI, and code verification that reports the matched time step so callers can refuse a replay.
//!
//! Pure functions: no storage, no clock (time is passed in). The HOTP arithmetic is totp-rs's;
//! what is written out here is Kratos's (pquerna/otp's) URL escaping and QR rendering, which no
//! crate reproduces byte for byte.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use std::fmt;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

/// Bytes of a generated secret (160 bit, RFC 4226's recommendation and Kratos's size).
const SECRET_BYTES: usize = 20;
/// Digits of a code.
const DIGITS: usize = 6;
/// Seconds per time step.
const PERIOD: u64 = 30;
/// Width and height of the QR image, in pixels.
pub const QR_PIXELS: u32 = 256;
/// Light modules kept around the code so scanners find its edges (ISO 18004 asks for 4).
const QUIET_ZONE: i32 = 4;

/// Why a QR code could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// The content does not fit in a version-40 QR code at level M.
    #[error("the content is too long for a QR code")]
    QrTooLong,
    /// The PNG encoder failed.
    #[error("encoding the QR code as PNG failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// A TOTP shared secret: its bytes and their RFC 4648 base32 form without padding.
#[derive(Clone)]
pub struct TotpSecret {
    encoded: String,
    totp: TOTP,
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    fn from_bytes(bytes: Vec<u8>, encoded: String) -> Self {
        // `new_unchecked`: imported secrets may be shorter than the 128 bits totp-rs insists on,
        // and Kratos (pquerna/otp) accepts any length.
        let totp = TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, PERIOD, bytes);
        Self { encoded, totp }
    }

    /// A new secret of 20 bytes from the OS CSPRNG (32 base32 characters).
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        let encoded = Secret::Raw(bytes.clone()).to_encoded().to_string();
        Self::from_bytes(bytes, encoded)
    }

    /// Parses a base32 secret. Like pquerna/otp: surrounding whitespace is trimmed, lower case and
    /// `=` padding are accepted. `None` when empty or not base32.
    pub fn from_base32(s: &str) -> Option<Self> {
        let encoded = s.trim().trim_end_matches('=').to_ascii_uppercase();
        let bytes = Secret::Encoded(encoded.clone()).to_bytes().ok()?;
        if bytes.is_empty() {
            return None;
        }
        Some(Self::from_bytes(bytes, encoded))
    }

    /// Reads the `secret` query parameter of an `otpauth://` URL. Every other parameter
    /// (algorithm, digits, period) is ignored, as Kratos ignores it when validating codes.
    pub fn from_url(otpauth_url: &str) -> Option<Self> {
        let url = url::Url::parse(otpauth_url).ok()?;
        let (_, secret) = url.query_pairs().find(|(k, _)| k == "secret")?;
        Self::from_base32(&secret)
    }

    /// The secret in base32 (A–Z, 2–7, no padding), as shown to the user.
    pub fn base32(&self) -> &str {
        &self.encoded
    }

    /// The 6-digit code of time step `counter`.
    fn code_for_counter(&self, counter: u64) -> String {
        self.totp.generate(counter.saturating_mul(PERIOD))
    }
}

/// The time step of `at`; `None` before the Unix epoch.
fn counter(at: DateTime<Utc>) -> Option<u64> {
    u64::try_from(at.timestamp()).ok().map(|secs| secs / PERIOD)
}

/// The code an authenticator app shows at `at` (the epoch's code for earlier times).
pub fn code_at(secret: &TotpSecret, at: DateTime<Utc>) -> String {
    secret.code_for_counter(counter(at).unwrap_or(0))
}

/// Checks `code` at `now`: surrounding whitespace is trimmed, then exactly 6 ASCII digits must
/// equal the code of step T, T−1 or T+1. Returns the matched step, which a caller stores to refuse
/// the same code again (Kratos does not; see DESIGN.md, difference 8).
pub fn verify(secret: &TotpSecret, code: &str, now: DateTime<Utc>) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = counter(now)?;
    // Every candidate is computed and compared, so timing says nothing about which step matched.
    let mut matched = None;
    for step in [Some(t), t.checked_sub(1), t.checked_add(1)]
        .into_iter()
        .flatten()
    {
        let expected = secret.code_for_counter(step);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// Go's `url.PathEscape` (`segment`) or path escaping (`!segment`, which also keeps `/ ; ,`).
/// pquerna/otp builds its URLs with these, and authenticator apps have been tested against them:
/// `url`/`percent-encoding` escape different sets, so the set is written out here.
fn go_escape(s: &str, segment: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b':' | b'=' | b'@'
            )
            || (!segment && matches!(b, b'/' | b';' | b','));
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://` URL Kratos stores and encodes in the QR code. Query keys are sorted and their
/// values path-escaped (space → `%20`); the `issuer:account` label is path-escaped, keeping `@`
/// and `:`. Like Kratos, a `&` inside the issuer is left literal.
pub fn otpauth_url(issuer: &str, account: &str, secret: &TotpSecret) -> String {
    format!(
        "otpauth://totp/{}?algorithm=SHA1&digits=6&issuer={}&period=30&secret={}",
        go_escape(&format!("{issuer}:{account}"), false),
        go_escape(issuer, true),
        go_escape(secret.base32(), true),
    )
}

/// Renders `content` as a QR code (level M, automatic mode) in a 256×256 grayscale PNG and returns
/// it as `data:image/png;base64,…`.
pub fn qr_data_uri(content: &str) -> Result<String, TotpError> {
    let png = qr_png(content)?;
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
}

fn qr_png(content: &str) -> Result<Vec<u8>, TotpError> {
    // One segment in the densest mode that fits the whole text, and no ECC boost: what Kratos's
    // encoder (boombuler/barcode, `qr.M`, `qr.Auto`) produces.
    let segments = QrSegment::make_segments(content);
    let qr = QrCode::encode_segments_advanced(
        &segments,
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        None,
        false,
    )
    .map_err(|_| TotpError::QrTooLong)?;
    // Nearest-neighbour at an integer scale keeps every module square and crisp; the code is
    // centred and the leftover margin (at least the quiet zone) is white.
    let side = QR_PIXELS as i32;
    let modules = qr.size();
    let scale = (side / (modules + 2 * QUIET_ZONE)).max(1);
    let offset = (side - modules * scale) / 2;
    let mut pixels = Vec::with_capacity((QR_PIXELS * QR_PIXELS) as usize);
    for y in 0..side {
        let my = (y - offset).div_euclid(scale);
        for x in 0..side {
            let mx = (x - offset).div_euclid(scale);
            // `get_module` answers light outside the code.
            pixels.push(if qr.get_module(mx, my) { 0u8 } else { 255u8 });
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, QR_PIXELS, QR_PIXELS);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// RFC 6238 appendix B's key for SHA1: the ASCII bytes "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        let s = TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(s.totp.secret, b"12345678901234567890");
        s
    }

    #[test]
    fn codes_are_the_last_six_digits_of_the_rfc_6238_sha1_vectors() {
        let secret = rfc_secret();
        for (time, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(&secret, at(time)), eight_digits[2..], "t={time}");
            assert_eq!(
                verify(&secret, &eight_digits[2..], at(time)),
                Some(time as u64 / 30)
            );
        }
    }

    #[test]
    fn verify_accepts_the_previous_current_and_next_step_and_reports_which() {
        let secret = TotpSecret::generate();
        let now = at(1_700_000_015);
        let t = 1_700_000_015 / 30;
        for step in [t - 1, t, t + 1] {
            let code = code_at(&secret, at(step as i64 * 30));
            assert_eq!(verify(&secret, &code, now), Some(step));
        }
        for step in [t - 2, t + 2] {
            let code = code_at(&secret, at(step as i64 * 30));
            // A far step's code may collide with a near one's (1 in 10^6); skip that case.
            let near: Vec<_> = [t - 1, t, t + 1]
                .iter()
                .map(|s| code_at(&secret, at(*s as i64 * 30)))
                .collect();
            if !near.contains(&code) {
                assert_eq!(verify(&secret, &code, now), None, "step {step}");
            }
        }
    }

    #[test]
    fn verify_trims_whitespace_and_requires_exactly_six_digits() {
        let secret = rfc_secret();
        let now = at(59);
        assert_eq!(verify(&secret, " 287082\n", now), Some(1));
        assert_eq!(verify(&secret, "94287082", now), None);
        assert_eq!(verify(&secret, "28708", now), None);
        assert_eq!(verify(&secret, "2870822222", now), None);
        assert_eq!(verify(&secret, "28708a", now), None);
        assert_eq!(verify(&secret, "287 082", now), None);
        assert_eq!(verify(&secret, "", now), None);
        assert_eq!(verify(&secret, "287082", at(-30)), None);
    }

    #[test]
    fn generated_secrets_are_20_random_bytes_in_32_base32_characters() {
        let a = TotpSecret::generate();
        let b = TotpSecret::generate();
        assert_eq!(a.base32().len(), 32);
        assert_eq!(a.totp.secret.len(), 20);
        assert!(
            a.base32()
                .bytes()
                .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
        );
        assert_ne!(a.base32(), b.base32());
        let again = TotpSecret::from_base32(a.base32()).unwrap();
        assert_eq!(again.totp.secret, a.totp.secret);
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let s = TotpSecret::generate();
        assert_eq!(format!("{s:?}"), "TotpSecret(***)");
    }

    #[test]
    fn base32_parsing_accepts_lower_case_padding_and_surrounding_space_only() {
        let canonical = "JBSWY3DPEHPK3PXP";
        for input in [
            "jbswy3dpehpk3pxp",
            " JBSWY3DPEHPK3PXP\n",
            "JBSWY3DPEHPK3PXP====",
        ] {
            let s = TotpSecret::from_base32(input).unwrap();
            assert_eq!(s.base32(), canonical, "{input:?}");
            assert_eq!(s.totp.secret, b"Hello!\xde\xad\xbe\xef");
        }
        for bad in ["", "   ", "====", "JBSWY3DP1", "JBSW Y3DP", "JBSWY3DPÉ"] {
            assert!(TotpSecret::from_base32(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn urls_yield_only_their_secret() {
        let url = "otpauth://totp/x:y?algorithm=SHA256&digits=8&issuer=x&period=60&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let s = TotpSecret::from_url(url).unwrap();
        // Validation stays SHA1 / 6 digits / 30 s whatever the URL says.
        assert_eq!(code_at(&s, at(59)), "287082");
        assert!(TotpSecret::from_url("otpauth://totp/x:y?issuer=x").is_none());
        assert!(TotpSecret::from_url("not a url").is_none());
        assert!(TotpSecret::from_url("otpauth://totp/x?secret=!!").is_none());
    }

    #[test]
    fn otpauth_url_matches_the_spec_example_byte_for_byte() {
        let secret = TotpSecret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(
            otpauth_url("127.0.0.1", "foo@example.com", &secret),
            "otpauth://totp/127.0.0.1:foo@example.com?algorithm=SHA1&digits=6&issuer=127.0.0.1&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        );
    }

    #[test]
    fn otpauth_url_escapes_like_go() {
        let secret = TotpSecret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(
            otpauth_url("My App/EU", "jo é?#%,;", &secret),
            "otpauth://totp/My%20App/EU:jo%20%C3%A9%3F%23%25,;?algorithm=SHA1&digits=6&issuer=My%20App%2FEU&period=30&secret=JBSWY3DPEHPK3PXP"
        );
        let url = otpauth_url("a+b", "x@y:z", &secret);
        assert!(url.starts_with("otpauth://totp/a+b:x@y:z?"), "{url}");
        assert_eq!(
            TotpSecret::from_url(&url).unwrap().base32(),
            "JBSWY3DPEHPK3PXP"
        );
    }

    fn decode_png(uri: &str) -> (png::OutputInfo, Vec<u8>) {
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = STANDARD.decode(b64).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR is the first chunk: width and height big-endian at offsets 16 and 20.
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 256);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 256);
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn the_qr_code_is_a_256_pixel_png_that_scans_back_to_the_url() {
        let secret = TotpSecret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
        let url = otpauth_url("127.0.0.1", "foo@example.com", &secret);
        let uri = qr_data_uri(&url).unwrap();
        let (info, pixels) = decode_png(&uri);
        assert_eq!((info.width, info.height), (256, 256));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert!(pixels.contains(&0) && pixels.contains(&255));
        assert!(pixels.iter().all(|p| *p == 0 || *p == 255));
        // The quiet zone: the outer rows and columns are white.
        assert!(pixels[..256 * 8].iter().all(|p| *p == 255));
        assert!((0..256).all(|y| pixels[y * 256] == 255 && pixels[y * 256 + 255] == 255));

        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(256, 256, |x, y| pixels[y * 256 + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (meta, content) = grids[0].decode().unwrap();
        assert_eq!(content, url);
        // Level M (format bits 00), not boosted to Q or H.
        assert_eq!(meta.ecc_level, 0);

        assert_eq!(
            qr_data_uri(&url).unwrap(),
            uri,
            "rendering is deterministic"
        );
    }

    #[test]
    fn content_too_long_for_any_qr_code_is_an_error() {
        let long = "x".repeat(3000);
        assert!(matches!(qr_data_uri(&long), Err(TotpError::QrTooLong)));
    }
}
