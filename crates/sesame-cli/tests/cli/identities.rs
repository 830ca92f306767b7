//! `sesame identities import|export` against a running server's database.

use super::support::{bcrypt_hash, create_body, json_lines, run};
use serde_json::{Value, json};
use sesame_core::identity::CredentialType;
use sesame_core::store::IdentityQuery;
use sesame_testkit::{Backend, TestApp};

async fn identity_count(app: &TestApp) -> u64 {
    app.store()
        .count_identities(&IdentityQuery::default())
        .await
        .unwrap()
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    let (_, credential) = app
        .store()
        .find_by_identifier(CredentialType::Password, email)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{email} was imported"));
    credential.config["hashed_password"]
        .as_str()
        .unwrap()
        .to_owned()
}

sesame_testkit::api_test!(
    imported_users_with_bcrypt_hashes_log_in_through_the_api,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let dir = tempfile::tempdir().unwrap();
        // One hash for the crowd (hashing is what makes a real export slow to produce), and
        // a distinct one for the user who logs in.
        let shared = bcrypt_hash("shared-password-1");
        let mut bodies: Vec<Value> = (0..300)
            .map(|i| create_body(&format!("user{i}@example.com"), &shared))
            .collect();
        bodies[123] = create_body("ada@example.com", &bcrypt_hash("ada-imported-passphrase"));
        bodies.push(json!({
            "traits": {"email": "plain@example.com"},
            "credentials": {"password": {"config": {"password": "plaintext-passphrase-9"}}},
            "state": "active",
        }));
        let file = dir.path().join("users.jsonl");
        std::fs::write(&file, json_lines(&bodies)).unwrap();

        let out = run([
            "identities",
            "import",
            file.to_str().unwrap(),
            "--batch-size",
            "64",
        ])
        .dsn(app.dsn())
        .output()
        .await
        .success();
        assert!(
            out.stderr().contains("imported 301 identities, 0 failed"),
            "{}",
            out.stderr()
        );
        assert_eq!(identity_count(&app).await, 301);

        assert!(
            stored_hash(&app, "ada@example.com").await.starts_with("$2"),
            "kept as imported"
        );
        let token = app
            .login("ada@example.com", "ada-imported-passphrase")
            .await;
        let res = app.whoami(&token).await;
        assert_eq!(res.status(), 200);
        let session: Value = res.json().await.unwrap();
        assert_eq!(session["identity"]["traits"]["email"], "ada@example.com");
        assert_eq!(session["identity"]["metadata_public"]["plan"], "imported");
        assert!(
            stored_hash(&app, "ada@example.com")
                .await
                .starts_with("$argon2id$"),
            "re-hashed at the first login"
        );
        app.login("user7@example.com", "shared-password-1").await;
        app.login("plain@example.com", "plaintext-passphrase-9")
            .await;
    }
);

sesame_testkit::api_test!(
    bad_records_are_reported_with_their_line_and_skipped_and_the_exit_code_says_so,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let hash = bcrypt_hash("some-password-1");
        let lines = [
            create_body("first@example.com", &hash).to_string(),
            "{\"traits\": {\"email\": \"broken@example.com\"".to_owned(),
            json!({"traits": {"email": "x@example.com"}, "bogus": 1}).to_string(),
            json!({"traits": {"name": {"first": "No email"}}}).to_string(),
            create_body("badhash@example.com", "$5$rounds=1000$salt$hash").to_string(),
            create_body("FIRST@example.com", &hash).to_string(),
            String::new(),
            create_body("last@example.com", &hash).to_string(),
            "{traits: 1}".to_owned(),
            json!({"traits": {"email": "not an address"}}).to_string(),
            json!({"traits": {"email": "ext1@example.com"}, "external_id": "crm-1"}).to_string(),
            json!({"traits": {"email": "ext2@example.com"}, "external_id": "crm-1"}).to_string(),
            json!({"traits": {"email": "x@example.com"}, "state": "paused"}).to_string(),
        ];
        let out = run(["identities", "import", "-"])
            .dsn(app.dsn())
            .stdin(lines.join("\n"))
            .output()
            .await;
        let err = out.stderr();
        assert_eq!(out.code(), Some(1), "{err}");
        let first = admin_get(
            &app,
            "/admin/identities?credentials_identifier=first@example.com",
        )
        .await[0]["id"]
            .clone();
        let first = first.as_str().unwrap();
        let ext1 = admin_get(&app, "/admin/identities/by/external/crm-1").await["id"].clone();
        let ext1 = ext1.as_str().unwrap();
        let reported: Vec<&str> = err.lines().filter(|l| l.starts_with("line ")).collect();
        assert_eq!(
            reported,
            [
                "line 2: not valid JSON: EOF while parsing an object (column 41)".to_owned(),
                "line 3: unknown field `bogus`, expected one of `schema_id`, `traits`, `credentials`, `verifiable_addresses`, `recovery_addresses`, `metadata_public`, `metadata_admin`, `state`, `organization_id`, `external_id`".to_owned(),
                "line 4: \"email\" is a required property".to_owned(),
                "line 5: The imported password does not match any known hash format.".to_owned(),
                format!("line 6: the password identifier \"first@example.com\" belongs to identity {first} already"),
                "line 9: not valid JSON: key must be a string (column 2)".to_owned(),
                "line 10: traits.email: \"not an address\" is not a \"email\"".to_owned(),
                format!("line 12: external_id \"crm-1\" belongs to identity {ext1} already"),
                "line 13: state: unknown variant `paused`, expected `active` or `inactive`".to_owned(),
            ],
            "every bad record in the order of the input, saying what is wrong: {err}"
        );
        assert!(err.contains("imported 3 identities, 9 failed"), "{err}");
        assert!(err.contains("sesame: 9 records were not imported"), "{err}");
        assert_eq!(identity_count(&app).await, 3);
        app.login("last@example.com", "some-password-1").await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_array_is_read_from_stdin_and_its_bad_elements_are_named_by_line_and_index() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let hash = bcrypt_hash("array-password-1");
    let array = format!(
        "[\n  {},\n  {{\n    \"traits\": {{\"email\": \"not an email\"}}\n  }},\n  {}\n]\n",
        create_body("one@example.com", &hash),
        create_body("two@example.com", &hash),
    );
    let out = run(["identities", "import", "-"])
        .dsn(app.dsn())
        .stdin(array)
        .output()
        .await;
    let err = out.stderr();
    assert_eq!(out.code(), Some(1), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("line 3 (array index 1): ") && l.contains("email")),
        "{err}"
    );
    assert!(err.contains("imported 2 identities, 1 failed"), "{err}");

    let out = run(["identities", "import", "-"])
        .dsn(app.dsn())
        .stdin(format!(
            "[{}\n{}]",
            create_body("three@example.com", &hash),
            create_body("four@example.com", &hash)
        ))
        .output()
        .await;
    assert_eq!(out.code(), Some(1));
    assert!(
        out.stderr()
            .contains("line 2: expected `,` or `]` between array elements"),
        "{}",
        out.stderr()
    );
    assert!(
        out.stderr()
            .contains("the rest of the input was not imported")
    );
    assert_eq!(
        identity_count(&app).await,
        3,
        "what came before the break is in"
    );
    app.login("three@example.com", "array-password-1").await;

    let out = run(["identities", "import", "/nonexistent/users.json"])
        .dsn(app.dsn())
        .output()
        .await;
    assert_eq!(out.code(), Some(1));
    assert!(out.stderr().contains("/nonexistent/users.json"));
}

sesame_testkit::api_test!(
    export_hides_secrets_unless_asked_and_round_trips_through_import,
    |backend: Backend| async move {
        let source = TestApp::spawn(backend.clone()).await;
        source
            .register("ada@example.com", "ada-round-trip-pass")
            .await;
        let res = source
            .admin(sesame_testkit::reqwest::Method::POST, "/admin/identities")
            .json(&json!({
                "traits": {"email": "grace@example.com", "name": {"first": "Grace"}},
                "state": "inactive",
                "external_id": "crm-42",
                "metadata_admin": {"tier": 3},
                "verifiable_addresses": [{"value": "grace@example.com", "via": "email", "verified": true, "status": "completed"}],
                "credentials": {"password": {"config": {"hashed_password": bcrypt_hash("grace-pass-1234")}}},
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);

        let plain = run(["identities", "export"])
            .dsn(source.dsn())
            .output()
            .await
            .success();
        let lines: Vec<Value> = plain
            .stdout()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert!(plain.stderr().contains("exported 2 identities"));
        for identity in &lines {
            assert!(identity["id"].is_string() && identity["schema_url"].is_string());
            assert_eq!(identity["credentials"]["password"]["type"], "password");
            assert!(identity["credentials"]["password"].get("config").is_none());
        }
        let text = plain.stdout();
        assert!(
            !text.contains("hashed_password")
                && !text.contains("$2b$")
                && !text.contains("$argon2")
        );

        let full = run(["identities", "export", "--include-credentials"])
            .dsn(source.dsn())
            .output()
            .await
            .success();
        let bodies: Vec<Value> = full
            .stdout()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(bodies.len(), 2);
        for body in &bodies {
            let hash = body["credentials"]["password"]["config"]["hashed_password"]
                .as_str()
                .unwrap();
            assert!(
                hash.starts_with("$argon2id$") || hash.starts_with("$2"),
                "{hash}"
            );
            assert!(body.get("id").is_none(), "a create body");
        }

        let target = TestApp::spawn(backend).await;
        run(["identities", "import", "-"])
            .dsn(target.dsn())
            .stdin(full.stdout())
            .output()
            .await
            .success();
        let again = run(["identities", "export"])
            .dsn(target.dsn())
            .output()
            .await
            .success();
        let mut before: Vec<Value> = lines.clone();
        let mut after: Vec<Value> = again
            .stdout()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let comparable = |v: &mut Vec<Value>| {
            v.sort_by_key(|i| i["traits"]["email"].as_str().unwrap().to_owned());
            for i in v.iter_mut() {
                let i = i.as_object_mut().unwrap();
                for volatile in [
                    "id",
                    "created_at",
                    "updated_at",
                    "state_changed_at",
                    "schema_url",
                    "credentials",
                ] {
                    i.remove(volatile);
                }
            }
        };
        comparable(&mut before);
        comparable(&mut after);
        assert_eq!(
            before, after,
            "traits, state, metadata and addresses survive the round trip"
        );
        target.login("ada@example.com", "ada-round-trip-pass").await;
        let grace = target
            .submit_login(json!({"method": "password", "identifier": "grace@example.com", "password": "grace-pass-1234"}))
            .await;
        assert_ne!(
            grace.status(),
            200,
            "an inactive identity stays unable to log in"
        );
    }
);

sesame_testkit::api_test!(
    export_writes_what_the_admin_api_shows_for_the_same_config,
    |backend| async move {
        // The test server runs as `serve --dev` does, on its own port.
        let app = TestApp::spawn(backend).await;
        app.register("shown@example.com", "shown-exactly-pass-1")
            .await;
        let port = url_port(&app.public_url);
        let exported = export_one(&app, port, &["--dev"]).await;
        let id = exported["id"].as_str().unwrap();
        let shown = admin_get(&app, &format!("/admin/identities/{id}")).await;
        assert_eq!(exported, shown);
        assert!(
            exported["schema_url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("http://127.0.0.1:{port}/schemas/")),
            "{exported}"
        );

        // Without --dev the same database is described as a production server would show it.
        let exported = export_one(&app, port, &[]).await;
        assert!(
            exported["schema_url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("https://127.0.0.1:{port}/schemas/")),
            "{exported}"
        );
    }
);

/// `sesame identities export FLAGS` of a database holding one identity, as a server on `port` has it.
async fn export_one(app: &TestApp, port: u16, flags: &[&str]) -> Value {
    let mut args = vec!["identities", "export"];
    args.extend_from_slice(flags);
    let out = run(args)
        .dsn(app.dsn())
        .env("SERVE_PUBLIC_PORT", port.to_string())
        .output()
        .await
        .success();
    serde_json::from_str(out.stdout().trim()).unwrap()
}

/// The admin API's JSON answer to a GET.
async fn admin_get(app: &TestApp, path: &str) -> Value {
    let res = app
        .admin(sesame_testkit::reqwest::Method::GET, path)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    res.json().await.unwrap()
}

fn url_port(url: &str) -> u16 {
    url.trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
