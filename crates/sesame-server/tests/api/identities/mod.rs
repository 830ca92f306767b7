//! Admin identities (admin port): create with password import, get, list with pagination and
//! filters, replace, patch, batch create, credential removal, state changes and their sessions,
//! delete, the `/admin` prefix, and the cross-port redirects.

mod batch;
mod create;
mod credentials;
mod filters;
mod list;
mod patch;
mod ports;
mod state;
mod update;

use crate::sdk::{assert_session_inactive, log_in};
use argon2::password_hash::{PasswordHasher, SaltString};
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::sesame_client::sesame_types::identity::{
    CredentialsBody, PasswordConfigBody, PasswordCredentialsBody,
};
use sesame_testkit::sesame_client::sesame_types::{
    CreateIdentityBody, IdentityState, UpdateIdentityBody,
};
use sesame_testkit::sesame_client::{Client, Error, ErrorKind, Uuid};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";
const NOT_FOUND_BODY: &str = "{\"error\":{\"code\":404,\"status\":\"Not Found\",\"message\":\"Unable to locate the resource\"}}\n";
const CONFLICT_BODY: &str = "{\"error\":{\"code\":409,\"status\":\"Conflict\",\"reason\":\"This identity conflicts with another identity that already exists.\",\"message\":\"The resource could not be created due to a conflict\"}}\n";

async fn post_identity(app: &TestApp, body: Value) -> Response {
    app.admin(Method::POST, "/admin/identities")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates an identity through the admin API and returns its body.
async fn create_identity(app: &TestApp, body: Value) -> Value {
    expect_json(post_identity(app, body).await, StatusCode::CREATED).await
}

async fn create_user(app: &TestApp, email: &str) -> String {
    let body = json!({"traits": {"email": email}, "credentials": {"password": {"config": {"password": PASSWORD}}}});
    create_identity(app, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Admin-API credentials importing `password`.
fn password_credentials(password: &str) -> Option<CredentialsBody> {
    Some(CredentialsBody {
        password: Some(PasswordCredentialsBody {
            config: PasswordConfigBody {
                password: Some(password.to_owned()),
                ..Default::default()
            },
        }),
    })
}

/// Creates an identity with [`PASSWORD`] through the SDK's admin API: its id.
async fn add_user(sdk: &Client, email: &str) -> Uuid {
    let body = CreateIdentityBody {
        traits: json!({"email": email}),
        credentials: password_credentials(PASSWORD),
        ..Default::default()
    };
    let res = sdk.create_identity(&body).await.unwrap();
    assert_eq!(res.status, StatusCode::CREATED);
    res.data.id
}

/// A password login the SDK reports as refused with 4000006 (invalid credentials).
async fn assert_login_refused(sdk: &Client, identifier: &str, password: &str) {
    let err = sdk
        .login_with_password(identifier, password)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{err:?}");
    let ErrorKind::LoginRejected(flow) = &err.kind else {
        panic!("expected the login flow, got {err:?}");
    };
    assert_eq!(flow.ui.message_ids(), [4000006]);
}

/// The SDK's 404 for an identity, with the exact body of the wire.
fn assert_not_found_refusal(err: &Error) {
    assert!(
        matches!(&err.kind, ErrorKind::Api(e) if e.code == Some(404)),
        "{err:?}"
    );
    let res = err.response.as_ref().unwrap();
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.headers["content-type"], "application/json");
    assert_eq!(res.text(), NOT_FOUND_BODY);
}

async fn get_json(app: &TestApp, path: &str) -> (Option<String>, Value) {
    let res = app.admin(Method::GET, path).send().await.unwrap();
    let link = res
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    (link, expect_json(res, StatusCode::OK).await)
}

/// The URL of the `rel` entry of a `Link` header.
fn link_rel(link: &str, rel: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        (params.trim() == format!("rel=\"{rel}\"")).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn assert_not_found(res: Response) {
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
}

async fn login_status(app: &TestApp, identifier: &str, password: &str) -> StatusCode {
    app.submit_login(json!({"method": "password", "identifier": identifier, "password": password}))
        .await
        .status()
}

fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

fn argon2id_hash(password: &str) -> String {
    let params = argon2::Params::new(1024, 1, 1, None).unwrap();
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    hasher
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}
