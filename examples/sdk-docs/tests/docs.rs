//! The pages and this crate cannot drift apart: every Rust block of `docs/sdk.md` and of the
//! README's "Rust SDK" section appears in this crate's source (so it compiles, with this crate's
//! dependencies), and those dependencies are only what the pages say an app needs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

const CRATE: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The workspace's root, two levels above this crate.
fn root() -> &'static Path {
    Path::new(CRATE).parent().unwrap().parent().unwrap()
}

/// The source of this crate: every `.rs` file under `src/`.
fn source() -> String {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(CRATE).join("src"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files.iter().map(|path| read(path) + "\n").collect()
}

/// The Rust code blocks of a markdown text (fences opening with ```` ```rust ````), each with its
/// first line number.
fn rust_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    // The block being read: its first line number (0 for a block in another language) and lines.
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (n, line) in markdown.lines().enumerate() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            match current.take() {
                None if info.trim().starts_with("rust") => current = Some((n + 2, Vec::new())),
                None => current = Some((0, Vec::new())),
                Some((0, _)) => {}
                Some((start, lines)) => blocks.push((start, lines.join("\n"))),
            }
        } else if let Some((_, lines)) = &mut current {
            lines.push(line);
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    blocks
}

/// The README's "Rust SDK" section, up to the next `## ` heading.
fn readme_sdk_section() -> String {
    let readme = read(&root().join("README.md"));
    let start = readme
        .find("\n## Rust SDK\n")
        .expect("the README has a Rust SDK section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// Whether `block` appears in `source` as consecutive lines, each indented by the same prefix
/// (blank lines match blank lines).
fn appears_in(block: &str, source: &str) -> bool {
    let block: Vec<&str> = block.lines().map(str::trim_end).collect();
    let source: Vec<&str> = source.lines().map(str::trim_end).collect();
    let Some(first) = block.first().filter(|line| !line.is_empty()) else {
        return false;
    };
    (0..source.len().saturating_sub(block.len() - 1)).any(|at| {
        let Some(indent) = source[at].strip_suffix(first) else {
            return false;
        };
        indent.chars().all(char::is_whitespace)
            && block.iter().zip(&source[at..]).all(|(want, have)| {
                if want.is_empty() {
                    have.is_empty()
                } else {
                    have.strip_prefix(indent) == Some(want)
                }
            })
    })
}

#[test]
fn the_matcher_allows_indentation_and_nothing_else() {
    let source = "fn f() {\n    let a = 1;\n\n    if a > 0 {\n        g(a);\n    }\n}\n";
    assert!(appears_in("let a = 1;\n\nif a > 0 {\n    g(a);\n}", source));
    assert!(appears_in("g(a);", source));
    assert!(!appears_in("let a = 2;", source), "a changed line");
    assert!(
        !appears_in("let a = 1;\nif a > 0 {", source),
        "a missing blank line"
    );
    assert!(
        !appears_in("if a > 0 {\ng(a);\n}", source),
        "relative indentation differs"
    );
    assert!(!appears_in("", source));
    let markdown = "text\n```rust\nlet a = 1;\n```\n```toml\nx = 1\n```\n```rust,no_run\nb\n```\n";
    assert_eq!(
        rust_blocks(markdown),
        [(3, "let a = 1;".to_owned()), (9, "b".to_owned())]
    );
}

fn check_page(name: &str, markdown: &str, at_least: usize) {
    let source = source();
    let blocks = rust_blocks(markdown);
    assert!(
        blocks.len() >= at_least,
        "{name}: {} Rust blocks, expected at least {at_least}",
        blocks.len()
    );
    let missing: Vec<_> = blocks
        .iter()
        .filter(|(_, block)| !appears_in(block, &source))
        .map(|(line, block)| format!("{name}:{line}:\n{block}"))
        .collect();
    assert!(
        missing.is_empty(),
        "these examples are not compiled by examples/sdk-docs/src (copy them there verbatim):\n\n{}",
        missing.join("\n\n")
    );
}

#[test]
fn every_rust_block_of_docs_sdk_md_is_compiled_here() {
    check_page("docs/sdk.md", &read(&root().join("docs/sdk.md")), 9);
}

#[test]
fn every_rust_block_of_the_readmes_sdk_section_is_compiled_here() {
    check_page("README.md (Rust SDK)", &readme_sdk_section(), 1);
}

#[test]
fn the_examples_depend_on_sesame_client_tokio_and_axum_only() {
    let manifest = read(&Path::new(CRATE).join("Cargo.toml"));
    let mut section = "";
    let mut dependencies = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section.ends_with("dependencies]") && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap();
            dependencies.push((section, name));
        }
    }
    let normal: Vec<&str> = dependencies
        .iter()
        .filter(|(section, _)| *section == "[dependencies]")
        .map(|(_, name)| *name)
        .collect();
    assert_eq!(normal, ["axum", "sesame-client", "tokio"]);
    let other: Vec<&str> = dependencies
        .iter()
        .filter(|(section, _)| !["[dependencies]", "[dev-dependencies]"].contains(section))
        .map(|(section, _)| *section)
        .collect();
    assert!(other.is_empty(), "{other:?}");
    // The HTTP types come from sesame-client, not through axum.
    assert!(!source().contains("axum::http"));
}
