//! Decides, when the tests are built, which outside resources they may expect: a test that needs
//! an absent one is compiled as ignored (with its reason), so that `cargo test` reports it as
//! ignored instead of passing without running. Cargo rebuilds this crate, and the tests that use
//! it, whenever one of these variables changes.

include!("src/ci.rs");

fn main() {
    for var in [
        "CI",
        "SESAME_TEST_POSTGRES_URL",
        "SESAME_TEST_KRATOS_FIXTURES",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rustc-check-cfg=cfg(sesame_skip_postgres)");
    println!("cargo::rustc-check-cfg=cfg(sesame_skip_kratos_fixtures)");
    // In CI nothing is skipped: a missing resource fails the tests that need it.
    if ci_from(std::env::var_os("CI")) {
        return;
    }
    if !is_set(std::env::var_os("SESAME_TEST_POSTGRES_URL")) {
        println!("cargo::rustc-cfg=sesame_skip_postgres");
    }
    if !is_set(std::env::var_os("SESAME_TEST_KRATOS_FIXTURES")) {
        println!("cargo::rustc-cfg=sesame_skip_kratos_fixtures");
    }
}
