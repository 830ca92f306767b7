//! Bounds on what clients send that Sesame stores or walks: how deep JSON values may nest, and
//! which text is refused. Every entry point checks with these functions before anything reaches a
//! recursive walker (schema validation, serialisation, the built-in UI) or SQL, so that SQLite and
//! PostgreSQL refuse the same input with the same 400.
//!
//! NUL is refused everywhere: PostgreSQL cannot store it in `text` (nor `\u0000` in `jsonb`), so
//! an identifier or external id carrying one would fail only there, and only as a 500. Text is
//! otherwise whatever UTF-8 the client sent; bodies that are not UTF-8 never become a `String`.

use serde_json::Value;
use std::fmt::Write;

/// The most levels of objects and arrays a client-supplied JSON value may nest: traits, metadata,
/// a credential's configuration, each value of a flow submit body. Identity schemas are a few
/// levels deep; this bound keeps every walker of stored values (validation, serialisation, reading
/// back under serde_json's own limit of 128) far from its limits.
pub const MAX_DEPTH: usize = 64;

/// Why input was refused. `field` names where, as a dotted path (`traits.name.first`,
/// `metadata_public.tags.3`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    #[error("The value of `{field}` nests deeper than {MAX_DEPTH} levels of objects and arrays.")]
    TooDeep {
        /// Where.
        field: String,
    },
    /// Text with a NUL character (`\u0000`).
    #[error("The value of `{field}` contains a NUL character (\\u0000), which is not accepted.")]
    Nul {
        /// Where.
        field: String,
    },
}

impl From<Refused> for crate::CoreError {
    fn from(e: Refused) -> Self {
        crate::CoreError::bad_request(e.to_string())
    }
}

/// Checks one piece of text (an identifier, an external id, a query parameter).
pub fn text(field: &str, s: &str) -> Result<(), Refused> {
    if s.contains('\0') {
        // The name may be the client's too (a form field, a query parameter).
        return Err(Refused::Nul {
            field: field.replace('\0', "\\u0000"),
        });
    }
    Ok(())
}

/// Checks a JSON value: at most [`MAX_DEPTH`] levels of objects and arrays, and no NUL in any key
/// or string. Iterative, so a value of any depth is checked without recursion.
pub fn json(field: &str, value: &Value) -> Result<(), Refused> {
    json_within(field, value, MAX_DEPTH)
}

/// A step into a container, for the path of a refusal.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Where a walk is inside one container.
enum Frame<'a> {
    Object(serde_json::map::Iter<'a>),
    Array(std::iter::Enumerate<std::slice::Iter<'a, Value>>),
}

fn frame(value: &Value) -> Option<Frame<'_>> {
    match value {
        Value::Object(map) => Some(Frame::Object(map.iter())),
        Value::Array(items) => Some(Frame::Array(items.iter().enumerate())),
        _ => None,
    }
}

fn path(field: &str, steps: &[Step<'_>], last: Option<Step<'_>>) -> String {
    let mut out = field.to_owned();
    for step in steps.iter().chain(last.as_ref()) {
        let _ = match step {
            Step::Key(k) => write!(out, ".{}", k.replace('\0', "\\u0000")),
            Step::Index(i) => write!(out, ".{i}"),
        };
    }
    out
}

/// [`json`] with another depth bound.
pub fn json_within(field: &str, value: &Value, max_depth: usize) -> Result<(), Refused> {
    if let Value::String(s) = value {
        return text(field, s);
    }
    let Some(root) = frame(value) else {
        return Ok(());
    };
    if max_depth == 0 {
        return Err(Refused::TooDeep {
            field: field.to_owned(),
        });
    }
    // `steps[i]` is how the walk entered `stack[i + 1]`.
    let mut stack: Vec<Frame<'_>> = vec![root];
    let mut steps: Vec<Step<'_>> = Vec::new();
    while let Some(top) = stack.last_mut() {
        let next = match top {
            Frame::Object(members) => members.next().map(|(k, v)| (Step::Key(k), v)),
            Frame::Array(items) => items.next().map(|(i, v)| (Step::Index(i), v)),
        };
        let Some((step, child)) = next else {
            stack.pop();
            steps.pop();
            continue;
        };
        if let Step::Key(k) = &step
            && k.contains('\0')
        {
            return Err(Refused::Nul {
                field: path(field, &steps, Some(step)),
            });
        }
        match child {
            Value::String(s) if s.contains('\0') => {
                return Err(Refused::Nul {
                    field: path(field, &steps, Some(step)),
                });
            }
            Value::Object(_) | Value::Array(_) => {
                if stack.len() >= max_depth {
                    return Err(Refused::TooDeep {
                        field: path(field, &steps, Some(step)),
                    });
                }
                if let Some(f) = frame(child) {
                    stack.push(f);
                    steps.push(step);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Levels of objects and arrays in a value (a scalar has none), counted without recursion.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, above)) = pending.pop() {
        match v {
            Value::Object(map) => {
                deepest = deepest.max(above + 1);
                pending.extend(map.values().map(|c| (c, above + 1)));
            }
            Value::Array(items) => {
                deepest = deepest.max(above + 1);
                pending.extend(items.iter().map(|c| (c, above + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// A JSON value nested `levels` deep (`{"a":{"a":…}}`), built without recursion, for tests.
#[doc(hidden)]
pub fn nested(levels: usize, leaf: Value) -> Value {
    let mut v = leaf;
    for _ in 0..levels {
        let mut map = serde_json::Map::new();
        map.insert("a".into(), v);
        v = Value::Object(map);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&json!("x")), 0);
        assert_eq!(depth(&json!({})), 1);
        assert_eq!(depth(&json!({"a": [1, {"b": []}]})), 4);
        assert_eq!(depth(&nested(64, json!(1))), 64);
    }

    #[test]
    fn the_bound_is_inclusive_and_names_the_deepest_field() {
        assert!(json("traits", &nested(MAX_DEPTH, json!("x"))).is_ok());
        let err = json("traits", &nested(MAX_DEPTH + 1, json!("x"))).unwrap_err();
        let expected = format!("traits{}", ".a".repeat(MAX_DEPTH));
        assert_eq!(err, Refused::TooDeep { field: expected });
    }

    #[test]
    fn nul_is_refused_in_keys_strings_and_text() {
        assert_eq!(
            json("traits", &json!({"emails": ["a", "b\u{0}"]})).unwrap_err(),
            Refused::Nul {
                field: "traits.emails.1".into()
            }
        );
        assert_eq!(
            json("metadata_public", &json!({"a\u{0}": 1})).unwrap_err(),
            Refused::Nul {
                field: "metadata_public.a\\u0000".into()
            }
        );
        assert!(json("x", &json!("\u{0}")).is_err());
        assert!(text("external_id", "a\u{0}b").is_err());
        assert!(text("external_id", "ünïcødé \u{1} ok").is_ok());
        assert_eq!(
            Refused::Nul {
                field: "external_id".into()
            }
            .to_string(),
            "The value of `external_id` contains a NUL character (\\u0000), which is not accepted."
        );
    }

    #[test]
    fn a_very_deep_value_is_checked_without_recursion() {
        // Built and dropped in a thread with a big stack: dropping is serde_json's own recursion.
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024 * 1024)
            .spawn(|| {
                let v = nested(200_000, json!(1));
                (depth(&v), json("x", &v).is_err())
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), (200_000, true));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(12, 64, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(".{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn json_agrees_with_depth_and_nul(v in value(), bound in 0usize..14) {
            let expected = depth(&v) <= bound && !has_nul(&v);
            prop_assert_eq!(json_within("f", &v, bound).is_ok(), expected);
        }

        #[test]
        fn refusals_name_a_path_under_the_field(v in value(), bound in 0usize..6) {
            if let Err(Refused::TooDeep { field } | Refused::Nul { field }) = json_within("f", &v, bound) {
                prop_assert!(field == "f" || field.starts_with("f."));
            }
        }

        #[test]
        fn text_refuses_exactly_nul(s in any::<String>()) {
            prop_assert_eq!(text("f", &s).is_err(), s.contains('\0'));
        }
    }
}
