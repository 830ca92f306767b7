//! Hostile input: bodies nested to any depth, text PostgreSQL cannot store, queries made to blow
//! up headers, `return_to` values next to an allowed path, and a fuzz smoke of mutated requests.
//! Each answer is a 4xx in Kratos's envelope and the server keeps answering.

mod fuzz;
mod links;
mod nesting;
mod return_to;
mod text;

use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

const PASSWORD: &str = "a-very-good-passphrase-42";

/// A 400 envelope: its `reason`.
async fn bad_request_reason(res: Response) -> String {
    let body = expect_json(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["code"], 400, "{body}");
    assert_eq!(body["error"]["status"], "Bad Request", "{body}");
    body["error"]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("a reason in {body}"))
        .to_owned()
}

/// Both ports still answer.
async fn assert_alive(app: &TestApp) {
    for res in [
        app.public(Method::GET, "/health/alive").send().await,
        app.admin(Method::GET, "/admin/health/alive").send().await,
    ] {
        assert_eq!(res.expect("the server answers").status(), StatusCode::OK);
    }
}

/// A user with a session: `(session token, identity id)`.
async fn user(app: &TestApp, email: &str) -> (String, String) {
    app.signed_up_user(email).await
}

/// A JSON value nested `levels` deep.
fn nested(levels: usize) -> Value {
    sesame_core::untrusted::nested(levels, json!("x"))
}
