//! A browser that sends no anti-CSRF cookie back (cookies blocked, or a `Secure` cookie dropped
//! over plain HTTP) is told why it cannot sign in, after a few redirects, instead of being sent
//! round between the sign-in page and a new flow for ever. A browser that keeps cookies but opens
//! another browser's flow link still gets a working form.

use super::browser::{Browser, assert_html_headers, location, tags};
use sesame_testkit::reqwest::{Method, StatusCode};
use sesame_testkit::{TestApp, api_test};

/// Follows redirects by hand without keeping any cookie; returns the final answer's status, body
/// and the number of redirects taken. Panics beyond ten.
async fn open_without_cookies(app: &TestApp, path: &str) -> (StatusCode, String, usize) {
    let mut url = format!("{}{path}", app.public_url);
    for hops in 0..=10 {
        let res = app.http.get(&url).send().await.unwrap();
        if !res.status().is_redirection() {
            assert_html_headers(res.headers(), &app.public_url);
            let status = res.status();
            return (status, res.text().await.unwrap(), hops);
        }
        url = location(&res);
    }
    panic!("{path}: still redirecting after ten hops, at {url}");
}

api_test!(
    a_browser_that_keeps_no_cookies_is_told_so_instead_of_being_redirected_for_ever,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        for page in ["/ui/login", "/ui/registration"] {
            let (status, html, hops) = open_without_cookies(&app, page).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{page}: {html}");
            assert!(hops <= 4, "{page}: {hops} redirects");
            assert!(html.contains("<h1>Cookies are needed</h1>"), "{html}");
            assert!(html.contains("Allow cookies"), "{html}");
            // With --dev the cookie is not Secure: plain HTTP is not the problem.
            assert!(!html.contains("https://"), "{html}");
        }
    }
);

api_test!(
    over_plain_http_with_secure_cookies_the_page_says_the_base_url_must_be_https,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env("COOKIES_SECURE", "true")
            .spawn()
            .await;
        let (status, html, _) = open_without_cookies(&app, "/ui/login").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("<h1>Cookies are needed</h1>"), "{html}");
        assert!(
            html.contains("only over HTTPS") && html.contains("must be an https:// address"),
            "{html}"
        );
    }
);

api_test!(
    a_browser_with_cookies_opening_another_browsers_flow_gets_a_form_of_its_own,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        // A flow made by another browser: this one has never had its cookie.
        let res = app
            .public(Method::GET, "/self-service/login/browser")
            .send()
            .await
            .unwrap();
        let theirs = location(&res);
        let mut browser = Browser::new(&app);
        let mut url = theirs.clone();
        let mut hops = 0;
        let html = loop {
            let res = browser.get(&url).await;
            if !res.status().is_redirection() {
                assert_eq!(res.status(), StatusCode::OK);
                break res.text().await.unwrap();
            }
            hops += 1;
            assert!(hops <= 4, "{hops} redirects");
            url = location(&res);
        };
        assert_ne!(url, theirs, "a flow of its own");
        assert!(
            tags(&html, "input")
                .iter()
                .any(|i| i.get("name").map(String::as_str) == Some("csrf_token")),
            "{html}"
        );
    }
);
