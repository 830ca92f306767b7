//! Session management (spec §4.6–§4.9): a user's own sessions on the public port, the admin
//! session API, extension with the cookie it re-issues, bulk management, and the devices sessions
//! record (with the trusted-proxy rule that keeps clients from choosing their own IP).

mod admin;
mod devices;
mod extend;
mod identity;
mod manage;
mod mine;

use crate::sdk::{PASSWORD, log_in, sign_up};
use sesame_testkit::reqwest::{Method, RequestBuilder, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::sesame_client::{Client, Uuid};
use sesame_testkit::{TestApp, expect_json};

/// The 401 of the `/sessions` endpoints: Kratos's body, without an id.
const NO_COOKIE_BODY: &str = "{\"error\":{\"code\":401,\"status\":\"Unauthorized\",\"reason\":\"No valid session cookie found.\",\"message\":\"The request could not be authorized\"}}\n";
const NOT_FOUND_BODY: &str = "{\"error\":{\"code\":404,\"status\":\"Not Found\",\"message\":\"Unable to locate the resource\"}}\n";
const BAD_UUID_MESSAGE: &str = "uuid: incorrect UUID length 7 in string \"BADUUID\"";

/// A user signed up as `email` with `logins` more sessions, one second apart (so that "newest
/// first" is well defined): the tokens oldest first, and the identity id.
async fn user_with_sessions(app: &TestApp, email: &str, logins: usize) -> (Vec<String>, Uuid) {
    let sdk = app.sdk();
    let (first, identity) = sign_up(&sdk, email).await;
    let mut tokens = vec![first];
    for _ in 0..logins {
        app.clock.advance(chrono::Duration::seconds(1));
        tokens.push(log_in(&sdk, email, PASSWORD).await);
    }
    (tokens, identity)
}

/// The session id of a token (through whoami).
async fn session_id(sdk: &Client, token: &str) -> Uuid {
    sdk.to_session()
        .x_session_token(token)
        .await
        .unwrap_or_else(|e| panic!("whoami failed: {e:?}"))
        .data
        .id
}

/// The ids of a JSON list of sessions.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The target of the `rel` entry of a `Link` header.
fn link_rel(res: &Response, rel: &str) -> Option<String> {
    let link = res.headers().get("link")?.to_str().unwrap().to_owned();
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

/// The `rel`s of a `Link` header, in order.
fn rels(res: &Response) -> Vec<String> {
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    link.split(',')
        .map(|part| {
            part.rsplit("rel=")
                .next()
                .unwrap()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

/// Follows `Link: rel="next"` from `first` to the last page: every page's ids, each page's
/// `Link` rels. `request` builds the request for a path (with the caller's credentials).
async fn follow(
    first: &str,
    request: impl Fn(&str) -> RequestBuilder,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let (mut pages, mut all_rels) = (Vec::new(), Vec::new());
    let mut next = Some(first.to_owned());
    while let Some(path) = next.take() {
        assert!(pages.len() < 50, "the next links never end");
        let res = request(&path).send().await.unwrap();
        all_rels.push(rels(&res));
        next = link_rel(&res, "next");
        let body = expect_json(res, StatusCode::OK).await;
        if ids(&body).is_empty() {
            break;
        }
        pages.push(ids(&body));
    }
    (pages, all_rels)
}

/// A 400 whose message (no reason) is `message`.
async fn assert_bad_request_message(res: Response, message: &str) {
    let body = expect_json(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        body,
        json!({"error": {"code": 400, "status": "Bad Request", "message": message}})
    );
}

/// A 400 whose reason is `reason`.
async fn assert_bad_request_reason(res: Response, reason: &str) {
    let body = expect_json(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["reason"], reason, "{body}");
    assert_eq!(body["error"]["code"], 400);
}

async fn assert_not_found(res: Response) {
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.text().await.unwrap(), NOT_FOUND_BODY);
}

/// `GET` on the admin port.
async fn admin_get(app: &TestApp, path: &str) -> Response {
    app.admin(Method::GET, path).send().await.unwrap()
}
