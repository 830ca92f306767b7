//! Throttled guessing (DESIGN.md difference 9): failed password, TOTP and backup-code checks are
//! counted per account and per client address in the database. Waits answer 429
//! `security_too_many_attempts` with `Retry-After`, a lock after at most 100 failures answers 403
//! `identity_locked` until an administrator (or a recovery) lifts it, unknown identifiers are
//! throttled exactly like accounts, and every node of a database sees the same counts. Time moves
//! by the test clock, never by sleeping.

mod accounts;
mod addresses;
mod locks;
mod nodes;
mod second_factors;

use crate::sdk::{PASSWORD, sign_up};
use sesame_core::Clock;
use sesame_testkit::reqwest::{Method, Response, StatusCode};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test, expect_json};

/// The 429 body after `secs` seconds of wait, without the request id the server adds.
fn too_many_attempts(secs: u64) -> Value {
    let unit = if secs == 1 { "second" } else { "seconds" };
    json!({"error": {
        "id": "security_too_many_attempts",
        "code": 429,
        "status": "Too Many Requests",
        "reason": format!("Too many failed attempts. Please wait {secs} {unit} before trying again."),
        "details": {"retry_after": secs},
        "message": "too many failed attempts",
    }})
}

/// The 403 body of a locked account, without the request id.
fn identity_locked() -> Value {
    json!({"error": {
        "id": "identity_locked",
        "code": 403,
        "status": "Forbidden",
        "reason": "This account is locked after too many failed attempts. Recover the account or ask an administrator to unlock it.",
        "message": "the account is locked",
    }})
}

/// What a login attempt answered, in the terms the tests compare: the status, `Retry-After`,
/// `Ory-Error-Id`, and the body without what differs between any two requests (the request id;
/// a flow's ids, times and echoed identifier — its messages are kept).
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    error_id: Option<String>,
    body: Value,
}

impl Answer {
    async fn of(res: Response) -> Self {
        let status = res.status();
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let retry_after = header("retry-after");
        let error_id = header("ory-error-id");
        let mut body: Value = res.json().await.unwrap();
        if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
            error.remove("request");
        } else {
            // A flow: its messages are what a client reads.
            body = json!({"ui_messages": body["ui"]["messages"]});
        }
        Self {
            status,
            retry_after,
            error_id,
            body,
        }
    }

    /// The wait asked for, in seconds.
    fn wait(&self) -> i64 {
        self.retry_after
            .as_deref()
            .expect("a Retry-After header")
            .parse()
            .unwrap()
    }
}

/// One password login through a new API flow, from `ip` when given (`X-Real-IP`; loopback is a
/// trusted proxy by default).
async fn attempt(app: &TestApp, identifier: &str, password: &str, ip: Option<&str>) -> Answer {
    let flow = app.login_flow().await;
    let id = flow["id"].as_str().unwrap();
    let mut req = app
        .public(Method::POST, &format!("/self-service/login?flow={id}"))
        .json(&json!({"method": "password", "identifier": identifier, "password": password}));
    if let Some(ip) = ip {
        req = req.header("X-Real-IP", ip);
    }
    Answer::of(req.send().await.unwrap()).await
}

/// The 400 of a wrong password (or an unknown identifier): 4000006 in the flow.
fn assert_refused_credentials(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    assert_eq!(answer.body["ui_messages"][0]["id"], 4000006, "{answer:?}");
    assert_eq!(answer.retry_after, None);
}

/// `GET /admin/identities/{id}/lock`.
async fn lock_of(app: &TestApp, id: &str) -> Value {
    let res = app
        .admin(Method::GET, &format!("/admin/identities/{id}/lock"))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await
}

const WRONG: &str = "not-the-password-at-all";
