//! The example app lets in exactly the visitors whose forwarded cookies whoami accepts, and sends
//! the others to sign in with `return_to` pointing back to the page they asked for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sesame_example_forward_cookie::{Sesame, app};
use sesame_testkit::reqwest::{Method, StatusCode, header};
use sesame_testkit::serde_json::{Value, json};
use sesame_testkit::{TestApp, api_test};

/// Signs up through a browser flow (as a single-page app would) and returns the `Cookie` header a
/// browser would then send.
async fn browser_sign_up(sesame: &TestApp, email: &str) -> String {
    let res = sesame
        .public(Method::GET, "/self-service/registration/browser")
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    let csrf_cookie = first_cookie(&res);
    let flow: Value = res.json().await.unwrap();
    let csrf_token = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "csrf_token")
        .unwrap()["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = sesame
        .public(Method::POST, flow["ui"]["action"].as_str().unwrap().trim_start_matches(&sesame.public_url))
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, &csrf_cookie)
        .json(&json!({"method": "password", "csrf_token": csrf_token, "traits": {"email": email}, "password": "a-very-good-passphrase-42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let session_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("ory_kratos_session="))
        .expect("a session cookie");
    format!("theme=dark; {session_cookie}")
}

fn first_cookie(res: &sesame_testkit::reqwest::Response) -> String {
    res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn start_example(sesame: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let example = app(Sesame {
        public_url: sesame.public_url.clone(),
        app_url: format!("http://{addr}"),
    })
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, example).await });
    format!("http://{addr}")
}

api_test!(
    the_dashboard_admits_a_signed_in_browser_and_sends_others_to_sign_in,
    |backend| async move {
        let sesame = TestApp::spawn(backend).await;
        let example = start_example(&sesame).await;
        let cookie = browser_sign_up(&sesame, "visitor@example.com").await;

        let res = sesame
            .http
            .get(format!("{example}/dashboard"))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Signed in as visitor@example.com")
        );

        let res = sesame
            .http
            .get(format!("{example}/dashboard"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let location = res.headers()[header::LOCATION].to_str().unwrap();
        let return_to = format!("{example}/dashboard")
            .replace(':', "%3A")
            .replace('/', "%2F");
        assert_eq!(
            location,
            format!(
                "{}/self-service/login/browser?return_to={return_to}",
                sesame.public_url
            )
        );

        let res = sesame
            .http
            .get(format!("{example}/dashboard"))
            .header(header::COOKIE, "ory_kratos_session=forged")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "a cookie Sesame cannot open is no session"
        );

        let res = sesame.http.get(format!("{example}/")).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the public page needs no session"
        );
    }
);
