//! Streaming reader for `sesame identities import`: one JSON array, or JSON lines (one value a
//! line), read record by record so that a file of any size takes the memory of one record. Each
//! record keeps the line it starts on, so that a bad one can be named and skipped.

use std::io::{self, BufRead};

/// One record's raw JSON and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The 1-based line the record starts on.
    pub line: u64,
    /// The 0-based position in the array (JSON arrays only).
    pub index: Option<u64>,
    /// The record's JSON text.
    pub json: Vec<u8>,
}

impl Record {
    /// `line 7` or `line 7 (array index 6)`, for messages.
    pub fn position(&self) -> String {
        match self.index {
            Some(i) => format!("line {} (array index {i})", self.line),
            None => format!("line {}", self.line),
        }
    }

    /// Parses the record as `T`; the error names the line it is on, the field, and what is wrong.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        let mut de = serde_json::Deserializer::from_slice(&self.json);
        let parsed = match serde_path_to_error::deserialize(&mut de) {
            Ok(value) => de.end().map(|()| value).map_err(|e| (String::new(), e)),
            Err(e) => Err((e.path().to_string(), e.into_inner())),
        };
        parsed.map_err(|(path, e)| {
            // serde_json counts from the record's first line; report the file's line instead.
            let line = self.line + (e.line() as u64).saturating_sub(1);
            let record = match self.index {
                Some(i) => format!("line {line} (array index {i})"),
                None => format!("line {line}"),
            };
            format!("{record}: {}", problem(&path, &e))
        })
    }
}

/// What is wrong with a record, for a person: bad JSON with the column, or the field at fault.
fn problem(path: &str, e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let what = text.strip_suffix(&suffix).unwrap_or(&text);
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            // serde_json's words for a bare word where a value was due.
            let what = if what == "expected ident" || what == "expected value" {
                "expected a value (an object, a string in double quotes, a number, true, false or null)"
            } else {
                what
            };
            format!("not valid JSON: {what} (column {})", e.column())
        }
        _ => {
            // An unknown field is named by the message already; the path then ends with it.
            let path = match path.rsplit_once('.') {
                _ if !what.starts_with("unknown field") => path,
                Some((parent, _)) => parent,
                None => "",
            };
            if path.is_empty() || path == "." {
                what.to_owned()
            } else {
                format!("{path}: {what}")
            }
        }
    }
}

/// A byte source that counts lines and bytes.
struct Input<R> {
    reader: R,
    line: u64,
    consumed: u64,
}

impl<R: BufRead> Input<R> {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn next(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.reader.consume(1);
            self.consumed += 1;
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }

    fn skip_whitespace(&mut self) -> io::Result<Option<u8>> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                return Ok(Some(b));
            }
            self.next()?;
        }
        Ok(None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Not looked at yet.
    Unknown,
    /// JSON lines.
    Lines,
    /// Inside `[`, before the first value or after a `,`.
    ArrayValue,
    /// Inside `[`, after a value.
    ArraySeparator,
    /// Past the end.
    Done,
}

/// Records from a JSON array or JSON lines, detected from the first character.
pub struct Records<R> {
    input: Input<R>,
    shape: Shape,
    index: u64,
}

impl<R: BufRead> Records<R> {
    /// Reads from `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            input: Input {
                reader,
                line: 1,
                consumed: 0,
            },
            shape: Shape::Unknown,
            index: 0,
        }
    }

    /// Bytes read so far.
    pub fn consumed(&self) -> u64 {
        self.input.consumed
    }

    fn fail(&mut self, message: String) -> Option<Result<Record, String>> {
        self.shape = Shape::Done;
        Some(Err(message))
    }

    fn next_line(&mut self) -> Option<Result<Record, String>> {
        loop {
            let line = self.input.line;
            let mut json = Vec::new();
            match self.input.reader.read_until(b'\n', &mut json) {
                Ok(0) => {
                    self.shape = Shape::Done;
                    return None;
                }
                Ok(n) => {
                    self.input.consumed += n as u64;
                    if json.last() == Some(&b'\n') {
                        self.input.line += 1;
                    }
                }
                Err(e) => return self.fail(format!("line {line}: cannot read: {e}")),
            }
            if json.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            // Without its line break, a record cut short fails on its own line.
            while json.last().is_some_and(u8::is_ascii_whitespace) {
                json.pop();
            }
            return Some(Ok(Record {
                line,
                index: None,
                json,
            }));
        }
    }

    /// One array element: an object, array, string or scalar, copied byte for byte.
    fn next_element(&mut self, first: u8) -> io::Result<Result<Record, String>> {
        let line = self.input.line;
        let index = self.index;
        let mut json = vec![first];
        self.input.next()?;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let (mut depth, mut in_string, mut escaped) = match first {
            b'{' | b'[' => (1u32, false, false),
            b'"' => (0, true, false),
            _ => (0, false, false),
        };
        loop {
            if depth == 0 && !in_string {
                // A container or string ended with its closing byte; a scalar (number, literal or
                // garbage) runs to the next separator.
                match self.input.peek()? {
                    Some(b) if scalar && !b.is_ascii_whitespace() && b != b',' && b != b']' => {
                        json.push(b);
                        self.input.next()?;
                        continue;
                    }
                    _ => break,
                }
            }
            let Some(b) = self.input.next()? else {
                return Ok(Err(format!(
                    "line {line} (array index {index}): the input ends inside this record"
                )));
            };
            json.push(b);
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        self.index += 1;
        Ok(Ok(Record {
            line,
            index: Some(index),
            json,
        }))
    }

    fn next_in_array(&mut self) -> io::Result<Option<Result<Record, String>>> {
        loop {
            let next = self.input.skip_whitespace()?;
            let line = self.input.line;
            let Some(b) = next else {
                return Ok(self.fail(format!(
                    "line {line}: the input ends before the JSON array is closed with `]`"
                )));
            };
            match (self.shape, b) {
                (_, b']') => {
                    self.input.next()?;
                    if let Some(extra) = self.input.skip_whitespace()? {
                        let line = self.input.line;
                        return Ok(self.fail(format!(
                            "line {line}: unexpected `{}` after the end of the JSON array",
                            char::from(extra)
                        )));
                    }
                    self.shape = Shape::Done;
                    return Ok(None);
                }
                (Shape::ArraySeparator, b',') => {
                    self.input.next()?;
                    self.shape = Shape::ArrayValue;
                }
                (Shape::ArraySeparator, other) => {
                    return Ok(self.fail(format!(
                        "line {line}: expected `,` or `]` between array elements, found `{}`",
                        char::from(other)
                    )));
                }
                (_, b',') => {
                    return Ok(self.fail(format!("line {line}: unexpected `,` in the JSON array")));
                }
                (_, first) => {
                    self.shape = Shape::ArraySeparator;
                    return self.next_element(first).map(Some);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for Records<R> {
    /// A record, or why reading stopped (the error is the last item).
    type Item = Result<Record, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.shape == Shape::Unknown {
            match self.input.skip_whitespace() {
                Ok(Some(b'[')) => {
                    let _ = self.input.next();
                    self.shape = Shape::ArrayValue;
                }
                Ok(Some(_)) => self.shape = Shape::Lines,
                Ok(None) => self.shape = Shape::Done,
                Err(e) => return self.fail(format!("cannot read: {e}")),
            }
        }
        match self.shape {
            Shape::Unknown | Shape::Done => None,
            Shape::Lines => self.next_line(),
            Shape::ArrayValue | Shape::ArraySeparator => {
                let line = self.input.line;
                match self.next_in_array() {
                    Ok(item) => item,
                    Err(e) => self.fail(format!("line {line}: cannot read: {e}")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    type Read = Result<(u64, Option<u64>, String), String>;

    fn read(text: &str) -> Vec<Read> {
        Records::new(text.as_bytes())
            .map(|r| r.map(|r| (r.line, r.index, String::from_utf8(r.json).unwrap())))
            .collect()
    }

    #[test]
    fn json_lines_are_one_record_a_line_skipping_blank_lines() {
        let got = read("{\"a\":1}\n\n  \n{\"b\":[1,2]}\r\nnot json\n{\"c\":3}");
        assert_eq!(
            got,
            vec![
                Ok((1, None, "{\"a\":1}".into())),
                Ok((4, None, "{\"b\":[1,2]}".into())),
                Ok((5, None, "not json".into())),
                Ok((6, None, "{\"c\":3}".into())),
            ]
        );
    }

    #[test]
    fn an_array_yields_its_elements_with_their_first_line_and_index() {
        let text = "[\n  {\"a\": \"x,]}\\\"\"},\n  {\n    \"b\": [1, {\"c\": 2}]\n  },\n  17, \"s\\\"]\",null\n]\n";
        let got = read(text);
        assert_eq!(
            got,
            vec![
                Ok((2, Some(0), "{\"a\": \"x,]}\\\"\"}".into())),
                Ok((3, Some(1), "{\n    \"b\": [1, {\"c\": 2}]\n  }".into())),
                Ok((6, Some(2), "17".into())),
                Ok((6, Some(3), "\"s\\\"]\"".into())),
                Ok((6, Some(4), "null".into())),
            ]
        );
        assert!(read("[]").is_empty());
        assert!(read("  \n ").is_empty());
    }

    #[test]
    fn a_broken_array_ends_with_an_error_naming_the_line() {
        let got = read("[{\"a\":1}\n{\"b\":2}]");
        assert_eq!(got.len(), 2);
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .starts_with("line 2: expected `,`")
        );
        let got = read("[{\"a\":1},\n{\"b\":2");
        assert_eq!(
            got[1],
            Err("line 2 (array index 1): the input ends inside this record".into())
        );
        let got = read("[{\"a\":1}");
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .contains("before the JSON array is closed")
        );
        let got = read("[1] x");
        assert!(got[1].as_ref().unwrap_err().contains("after the end"));
    }

    #[test]
    fn a_parse_error_names_the_files_line_not_the_records() {
        let mut records = Records::new("[\n{\n\"traits\": {},\n\"bogus\": 1\n}\n]".as_bytes());
        let record = records.next().unwrap().unwrap();
        let err = record
            .parse::<std::collections::BTreeMap<String, u32>>()
            .unwrap_err();
        assert_eq!(
            err,
            "line 3 (array index 0): traits: invalid type: map, expected u32"
        );
    }

    #[test]
    fn bad_json_says_so_with_the_column_and_a_wrong_field_is_named() {
        let record = |json: &str| Record {
            line: 7,
            index: None,
            json: json.as_bytes().to_vec(),
        };
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            state: State,
            inner: Option<Inner>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "lowercase")]
        enum State {
            Active,
        }
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            n: u8,
        }
        for (json, want) in [
            (
                "{traits: 1}",
                "line 7: not valid JSON: key must be a string (column 2)",
            ),
            (
                "nope",
                "line 7: not valid JSON: expected a value (an object, a string in double quotes, a number, true, false or null) (column 2)",
            ),
            (
                "{\"state\": \"active\"} x",
                "line 7: not valid JSON: trailing characters (column 21)",
            ),
            (
                "{\"state\": \"weird\"}",
                "line 7: state: unknown variant `weird`, expected `active`",
            ),
            (
                "{\"state\": \"active\",\n \"inner\": {\"n\": 300}}",
                "line 8: inner.n: invalid value: integer `300`, expected u8",
            ),
            (
                "{\"state\": \"active\", \"bogus\": 1}",
                "line 7: unknown field `bogus`, expected `state` or `inner`",
            ),
            (
                "{\"state\": \"active\", \"inner\": {\"n\": 1, \"m\": 2}}",
                "line 7: inner: unknown field `m`, expected `n`",
            ),
        ] {
            assert_eq!(record(json).parse::<Body>().unwrap_err(), want, "{json}");
        }
    }
}
