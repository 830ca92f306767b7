//! Admin identities (admin port): create with password import, get, list with pagination and
//! filters, replace, delete, the `/admin` prefix, and the cross-port redirects.

mod create;
mod list;
mod ports;
mod update;

use argon2::password_hash::{PasswordHasher, SaltString};
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
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
