//! Every command that opens the database loads its configuration as `serve` does: `-c FILE`, then
//! the environment with Kratos's names.

use super::support::{bcrypt_hash, run};
use serde_json::json;
use std::path::Path;

const USERNAME_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "traits": {
      "type": "object",
      "properties": {
        "username": {
          "type": "string",
          "minLength": 1,
          "ory.sh/kratos": { "credentials": { "password": { "identifier": true } } }
        }
      },
      "required": ["username"],
      "additionalProperties": false
    }
  }
}"#;

fn sqlite(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn with_config(args: &[&str], config: &Path) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.push("-c".into());
    all.push(config.display().to_string());
    all
}

#[test]
fn database_commands_read_the_config_file_and_then_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file.sqlite");
    std::fs::write(dir.path().join("users.schema.json"), USERNAME_SCHEMA).unwrap();
    let config = dir.path().join("sesame.yml");
    std::fs::write(
        &config,
        format!(
            "dsn: {}\nidentity:\n  default_schema_id: users\n  schemas:\n    - id: users\n      url: file://users.schema.json\n",
            sqlite(&from_file)
        ),
    )
    .unwrap();
    let records = dir.path().join("users.jsonl");
    let record = json!({
        "traits": {"username": "bob"},
        "credentials": {"password": {"config": {"hashed_password": bcrypt_hash("bob-password-1")}}},
    });
    std::fs::write(&records, format!("{record}\n")).unwrap();
    let records = records.display().to_string();

    run(with_config(&["migrate"], &config))
        .output_blocking()
        .success();
    assert!(from_file.exists(), "the file's dsn is used");
    run(with_config(&["identities", "import", &records], &config))
        .output_blocking()
        .success();
    let out = run(with_config(&["identities", "export"], &config))
        .output_blocking()
        .success();
    assert!(
        out.stdout().contains("\"username\":\"bob\""),
        "imported under the file's schema: {}",
        out.stdout()
    );
    run(with_config(&["cleanup"], &config))
        .output_blocking()
        .success();

    let commands: [&[&str]; 4] = [
        &["migrate"],
        &["cleanup"],
        &["identities", "export"],
        &["identities", "import", &records],
    ];
    for (i, args) in commands.iter().enumerate() {
        let from_env = dir.path().join(format!("from-env-{i}.sqlite"));
        let out = run(with_config(args, &config))
            .dsn(sqlite(&from_env))
            .output_blocking()
            .success();
        assert!(from_env.exists(), "DSN overrides the file for {args:?}");
        if args[..] == ["identities", "export"] {
            assert_eq!(out.stdout(), "", "the environment's database is empty");
        }

        let out = run(with_config(args, &config))
            .env("SESSION_LIFESPAN", "1 day")
            .output_blocking();
        assert_eq!(out.code(), Some(1), "{args:?}");
        let err = out.stderr();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("`session.lifespan`") && err.contains("1 day"),
            "{err}"
        );
    }

    let out = run(["identities", "import", records.as_str()])
        .dsn(sqlite(&dir.path().join("default-schema.sqlite")))
        .output_blocking();
    assert_eq!(
        out.code(),
        Some(1),
        "without the file, the shipped email schema applies"
    );
    assert!(out.stderr().contains("line 1: "), "{}", out.stderr());
}
