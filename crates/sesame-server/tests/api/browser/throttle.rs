//! Browser flows under throttled guessing: an HTML form post the limiter refuses goes to the error
//! page, which says to wait (or that the account is locked); a single-page app gets the 429 itself.

use super::*;
use sesame_testkit::api_test;

/// An HTML form login of `email` with `password` through a new browser flow.
async fn html_login(app: &TestApp, email: &str, password: &str) -> Response {
    let (flow, csrf) = browser_flow(app, "login").await;
    let token = csrf_token(&flow);
    form(
        submit(app, "login", &flow, Some(&csrf.pair())),
        &[
            ("csrf_token", &token),
            ("method", "password"),
            ("identifier", email),
            ("password", password),
        ],
    )
    .send()
    .await
    .unwrap()
}

api_test!(
    a_refused_html_login_goes_to_the_error_page_and_a_spa_gets_429,
    |backend| async move {
        let app = spawn(backend).await;
        user(&app, "html@example.com").await;
        for _ in 0..5 {
            let res = html_login(&app, "html@example.com", "wrong-password-1").await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert!(
                location(&res).contains("/ui/login?flow="),
                "{}",
                location(&res)
            );
        }
        let res = html_login(&app, "html@example.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert!(
            to.ends_with("/ui/error?error=security_too_many_attempts"),
            "{to}"
        );
        let page = app
            .http
            .get(&to)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Too many attempts"), "{page}");

        let (flow, csrf) = browser_flow(&app, "login").await;
        let res = submit(&app, "login", &flow, Some(&csrf.pair()))
            .json(&password_login(&flow, "html@example.com", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["retry-after"], "1");
        let body = expect_json(res, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(body["error"]["id"], "security_too_many_attempts");
    }
);
