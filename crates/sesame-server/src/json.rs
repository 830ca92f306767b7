//! JSON exactly as Kratos's Go encoder writes it: compact, `<`, `>`, `&`, U+2028 and U+2029 escaped,
//! and a trailing newline. Clients that compare bodies byte-for-byte (or that embed them in HTML)
//! see the same bytes from Sesame as from Kratos.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::io;

struct GoFormatter;

/// Bytes that may start something Go escapes: `<`, `>`, `&`, and the lead byte of U+2028/U+2029.
static NEEDS_CARE: [bool; 256] = {
    let mut table = [false; 256];
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'&' as usize] = true;
    table[0xE2] = true;
    table
};

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        // Fast path: nothing to escape (U+2028 and U+2029 both start with the byte 0xE2).
        if !bytes.iter().any(|&b| NEEDS_CARE[usize::from(b)]) {
            return w.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&bytes[start..i])?;
            w.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&bytes[start..])
    }
}

/// Appends `s` as a JSON string exactly as [`to_vec`] writes strings (without the newline), for
/// bodies written by hand.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    use serde::Serializer as _;
    let mut ser = serde_json::Serializer::with_formatter(out, GoFormatter);
    // Writing into a `Vec` cannot fail.
    let _ = ser.serialize_str(s);
}

/// Serialises like Go's `json.Encoder` (with the trailing newline).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(512);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    out.push(b'\n');
    Ok(out)
}

/// Content type of success bodies.
pub const SUCCESS_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Content type of error bodies.
pub const ERROR_CONTENT_TYPE: &str = "application/json";

/// A JSON response with a status.
pub fn response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match to_vec(value) {
        Ok(body) => {
            let mut res = Response::new(Body::from(body));
            *res.status_mut() = status;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(SUCCESS_CONTENT_TYPE),
            );
            res
        }
        Err(e) => crate::error::ApiError::internal(format!("cannot serialise a response: {e}"))
            .into_response(),
    }
}

/// A 200 JSON response.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        response(StatusCode::OK, &self.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_characters_are_escaped_and_a_newline_ends_the_body() {
        let v = serde_json::json!({"url": "https://x/?a=1&b=<2>"});
        assert_eq!(
            String::from_utf8(super::to_vec(&v).unwrap()).unwrap(),
            "{\"url\":\"https://x/?a=1\\u0026b=\\u003c2\\u003e\"}\n"
        );
    }
}
