//! What a test run can reach outside the repository: a PostgreSQL server
//! (`SESAME_TEST_POSTGRES_URL`) and a directory of Kratos's own published documents
//! (`SESAME_TEST_KRATOS_FIXTURES`, see [`KratosFixtures`]).
//!
//! A test that needs one of them is wrapped in [`needs_postgres!`] or [`needs_kratos_fixtures!`].
//! When its variable was not set as the tests were built, the test is compiled as ignored with
//! the reason, so that `cargo test` lists it as `ignored, needs PostgreSQL: …` and counts it in
//! the summary, instead of passing without having run. Under `CI` nothing is ignored: a missing
//! resource fails the tests that need it. A test asked for with `--include-ignored` runs and
//! fails the same way when its resource is missing.
//!
//! This crate has no dependencies and ships nothing; sesame-testkit re-exports it.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};

// The build script reads the environment with the same functions.
#[allow(dead_code)]
mod ci;

/// The variable naming the PostgreSQL database tests use (each in a schema of its own).
pub const POSTGRES_URL_VAR: &str = "SESAME_TEST_POSTGRES_URL";

/// The variable naming the directory of Kratos's documents ([`KratosFixtures`]).
pub const KRATOS_FIXTURES_VAR: &str = "SESAME_TEST_KRATOS_FIXTURES";

/// Whether this is a CI run (`CI` set, and neither empty, `false` nor `0`): nothing may be skipped.
pub fn in_ci() -> bool {
    ci::ci_from(std::env::var_os("CI"))
}

/// The PostgreSQL URL of `SESAME_TEST_POSTGRES_URL`. Panics when it is not set: only a test that
/// [`needs_postgres!`] calls this, and such a test runs without it only in CI or when asked for.
pub fn postgres_url() -> String {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ if in_ci() => panic!(
            "{POSTGRES_URL_VAR} is not set but CI is: PostgreSQL tests may not be skipped in CI \
             (set it to e.g. postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => panic!(
            "this test needs PostgreSQL: set {POSTGRES_URL_VAR} (e.g. \
             postgres://postgres@127.0.0.1:5432/test)"
        ),
    }
}

/// A directory holding copies of Kratos's own published documents, which some compatibility
/// checks compare Sesame against. They are Kratos's files (Apache-2.0), not Sesame's, so the
/// repository does not carry them; point `SESAME_TEST_KRATOS_FIXTURES` at a directory with:
///
/// - `kratos-openapi.json`: Kratos's OpenAPI document (`spec/api.json` in Kratos's repository),
///   the one its official SDKs are generated from;
/// - `kratos-quickstart/kratos.yml` and `kratos-quickstart/identity.schema.json`: the
///   configuration and identity schema of Kratos's email-password quickstart
///   (`contrib/quickstart/kratos/email-password/`).
#[derive(Debug, Clone)]
pub struct KratosFixtures {
    dir: PathBuf,
}

impl KratosFixtures {
    /// The fixtures named by `SESAME_TEST_KRATOS_FIXTURES`; `None` when it is not set, outside
    /// CI. Panics in CI without it, and when the directory lacks one of the documents.
    pub fn from_env() -> Option<KratosFixtures> {
        match std::env::var_os(KRATOS_FIXTURES_VAR) {
            Some(dir) if !dir.is_empty() => Some(KratosFixtures::at(Path::new(&dir))),
            _ if in_ci() => panic!(
                "{KRATOS_FIXTURES_VAR} is not set but CI is: the checks against Kratos's own \
                 documents may not be skipped in CI"
            ),
            _ => None,
        }
    }

    /// The fixtures named by `SESAME_TEST_KRATOS_FIXTURES`, for a test that
    /// [`needs_kratos_fixtures!`]; panics when it is not set.
    pub fn required() -> KratosFixtures {
        KratosFixtures::from_env().unwrap_or_else(|| {
            panic!(
                "this test needs Kratos's OpenAPI document and quickstart: set \
                 {KRATOS_FIXTURES_VAR} to a directory holding them (see the README)"
            )
        })
    }

    /// The fixtures in `dir`; panics, naming the file, when one is missing.
    pub fn at(dir: &Path) -> KratosFixtures {
        let fixtures = KratosFixtures {
            dir: dir.to_owned(),
        };
        for file in [
            fixtures.openapi(),
            fixtures.quickstart_config(),
            fixtures.quickstart_schema(),
        ] {
            assert!(
                file.is_file(),
                "{KRATOS_FIXTURES_VAR} is {} but {} is missing",
                dir.display(),
                file.display()
            );
        }
        fixtures
    }

    /// `kratos-openapi.json`.
    pub fn openapi(&self) -> PathBuf {
        self.dir.join("kratos-openapi.json")
    }

    /// The quickstart's directory, `kratos-quickstart/`.
    pub fn quickstart_dir(&self) -> PathBuf {
        self.dir.join("kratos-quickstart")
    }

    /// `kratos-quickstart/kratos.yml`.
    pub fn quickstart_config(&self) -> PathBuf {
        self.quickstart_dir().join("kratos.yml")
    }

    /// `kratos-quickstart/identity.schema.json`.
    pub fn quickstart_schema(&self) -> PathBuf {
        self.quickstart_dir().join("identity.schema.json")
    }
}

/// Wraps a test function that needs PostgreSQL (call [`postgres_url`] in it): compiled as
/// ignored, with the reason, when `SESAME_TEST_POSTGRES_URL` was not set as the tests were built
/// (outside CI).
///
/// ```text
/// sesame_testenv::needs_postgres! {
///     #[tokio::test]
///     async fn postgres() { /* … sesame_testenv::postgres_url() … */ }
/// }
/// ```
#[cfg(sesame_skip_postgres)]
#[macro_export]
macro_rules! needs_postgres {
    ($($item:tt)+) => {
        $crate::__ignored! {
            "needs PostgreSQL: set SESAME_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)";
            $($item)+
        }
    };
}

/// Wraps a test function that needs PostgreSQL (call [`postgres_url`] in it): compiled as
/// ignored, with the reason, when `SESAME_TEST_POSTGRES_URL` was not set as the tests were built
/// (outside CI).
#[cfg(not(sesame_skip_postgres))]
#[macro_export]
macro_rules! needs_postgres {
    ($($item:tt)+) => { $($item)+ };
}

/// Wraps a test function that needs Kratos's documents (call [`KratosFixtures::required`] in
/// it): compiled as ignored, with the reason, when `SESAME_TEST_KRATOS_FIXTURES` was not set as
/// the tests were built (outside CI).
#[cfg(sesame_skip_kratos_fixtures)]
#[macro_export]
macro_rules! needs_kratos_fixtures {
    ($($item:tt)+) => {
        $crate::__ignored! {
            "needs Kratos's OpenAPI document and quickstart: set SESAME_TEST_KRATOS_FIXTURES (see the README)";
            $($item)+
        }
    };
}

/// Wraps a test function that needs Kratos's documents (call [`KratosFixtures::required`] in
/// it): compiled as ignored, with the reason, when `SESAME_TEST_KRATOS_FIXTURES` was not set as
/// the tests were built (outside CI).
#[cfg(not(sesame_skip_kratos_fixtures))]
#[macro_export]
macro_rules! needs_kratos_fixtures {
    ($($item:tt)+) => { $($item)+ };
}

/// Wraps a test function that needs both PostgreSQL and Kratos's documents.
#[cfg(any(sesame_skip_postgres, sesame_skip_kratos_fixtures))]
#[macro_export]
macro_rules! needs_postgres_and_kratos_fixtures {
    ($($item:tt)+) => {
        $crate::__ignored! {
            "needs PostgreSQL and Kratos's OpenAPI document and quickstart: set SESAME_TEST_POSTGRES_URL and SESAME_TEST_KRATOS_FIXTURES (see the README)";
            $($item)+
        }
    };
}

/// Wraps a test function that needs both PostgreSQL and Kratos's documents.
#[cfg(not(any(sesame_skip_postgres, sesame_skip_kratos_fixtures)))]
#[macro_export]
macro_rules! needs_postgres_and_kratos_fixtures {
    ($($item:tt)+) => { $($item)+ };
}

/// A test function compiled as ignored with `reason` (after its other attributes, so that an
/// attribute macro such as `#[tokio::test]` keeps it).
#[doc(hidden)]
#[macro_export]
macro_rules! __ignored {
    ($reason:literal; $(#[$attr:meta])* async fn $($rest:tt)+) => {
        $(#[$attr])*
        #[ignore = $reason]
        async fn $($rest)+
    };
    ($reason:literal; $(#[$attr:meta])* fn $($rest:tt)+) => {
        $(#[$attr])*
        #[ignore = $reason]
        fn $($rest)+
    };
}
