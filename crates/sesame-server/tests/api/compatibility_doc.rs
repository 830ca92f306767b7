//! docs/compatibility.md cannot drift from Kratos's OpenAPI document: every operation of
//! `kratos-openapi.json` (in `SESAME_TEST_KRATOS_FIXTURES`) has exactly one row in the "Operations" table, with the
//! document's method and path and one of the three statuses. (Which rows may say supported or partly
//! is checked by the JavaScript SDK suite, which knows what it called.)

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(operationId → (METHOD, path))` from Kratos's OpenAPI document.
fn openapi_operations() -> BTreeMap<String, (String, String)> {
    let file = sesame_testkit::KratosFixtures::required().openapi();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                let previous = ops.insert(id.to_owned(), (method.to_uppercase(), path.clone()));
                assert!(previous.is_none(), "{id} twice in the OpenAPI document");
            }
        }
    }
    assert!(
        ops.len() > 50,
        "only {} operations in {}",
        ops.len(),
        file.display()
    );
    ops
}

/// The rows of the "Operations" table: `(operationId, METHOD, path, status)`.
fn doc_rows() -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(repo_root().join("docs/compatibility.md")).unwrap();
    let section = text
        .split("\n## Operations\n")
        .nth(1)
        .expect("docs/compatibility.md has an `## Operations` section");
    let section = section.split("\n## ").next().unwrap();
    let unquote = |s: &str| s.trim().trim_matches('`').to_owned();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').splitn(4, '|').collect();
            assert_eq!(cells.len(), 4, "a row needs 4 cells: {l}");
            (
                unquote(cells[0]),
                cells[1].trim().to_owned(),
                unquote(cells[2]),
                cells[3].trim().to_owned(),
            )
        })
        .collect()
}

sesame_testkit::needs_kratos_fixtures! {
    #[test]
    fn the_operations_table_lists_every_openapi_operation_once() {
        let ops = openapi_operations();
        let rows = doc_rows();
        let mut problems = Vec::new();
        let mut seen = BTreeMap::new();
        for (id, method, path, status) in &rows {
            if seen.insert(id.clone(), ()).is_some() {
                problems.push(format!("`{id}` is listed twice"));
            }
            match ops.get(id) {
                None => problems.push(format!(
                    "`{id}` is not an operation of the OpenAPI document"
                )),
                Some((m, p)) if (m, p) != (method, path) => problems.push(format!(
                    "`{id}` is {m} {p} in the OpenAPI document, the table says {method} {path}"
                )),
                Some(_) => {}
            }
            let known = status == "supported"
                || status == "not yet"
                || status
                    .strip_prefix("partly: ")
                    .is_some_and(|what| !what.trim().is_empty());
            if !known {
                problems.push(format!(
                    "`{id}`: status {status:?} is none of `supported`, `partly: <what is missing>`, `not yet`"
                ));
            }
        }
        for (id, (m, p)) in &ops {
            if !seen.contains_key(id) {
                problems.push(format!("`{id}` ({m} {p}) is missing from the table"));
            }
        }
        assert!(
            problems.is_empty(),
            "docs/compatibility.md is out of date:\n  {}",
            problems.join("\n  ")
        );
    }
}
