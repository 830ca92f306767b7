//! The device a session records (spec §2.3, DESIGN.md difference 7): the client IP and location
//! come from forwarding headers only when the peer is a trusted proxy
//! (`serve.public.trusted_proxies`, loopback by default), so a client cannot choose its own.

use super::*;
use sesame_testkit::api_test;

/// Logs `email` in through a native flow with extra request headers: the session token.
async fn login_with_headers(app: &TestApp, email: &str, headers: &[(&str, &str)]) -> String {
    let flow = app.login_flow().await;
    let mut req = app.public(
        Method::POST,
        &format!("/self-service/login?flow={}", flow["id"].as_str().unwrap()),
    );
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req
        .json(&json!({"method": "password", "identifier": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await["session_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What a request through a CDN and a load balancer carries.
const FORWARDED: [(&str, &str); 3] = [
    ("X-Forwarded-For", "203.0.113.9, 10.0.0.7"),
    ("Cf-Ipcity", "Berlin"),
    ("Cf-Ipcountry", "DE"),
];

/// The device of the session behind `token`, as the admin API and `GET /sessions` show it.
async fn device(app: &TestApp, token: &str, viewer: &str) -> Value {
    let id = session_id(&app.sdk(), token).await;
    let admin = expect_json(
        admin_get(app, &format!("/admin/sessions/{id}?expand=devices")).await,
        StatusCode::OK,
    )
    .await;
    let res = app
        .public(Method::GET, "/sessions")
        .header("X-Session-Token", viewer)
        .send()
        .await
        .unwrap();
    let mine = expect_json(res, StatusCode::OK).await;
    let listed = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.to_string())
        .unwrap_or_else(|| panic!("{id} is not among {mine}"));
    assert_eq!(listed["devices"], admin["devices"]);
    assert_eq!(admin["devices"].as_array().unwrap().len(), 1);
    admin["devices"][0].clone()
}

api_test!(
    behind_a_trusted_proxy_the_forwarded_client_ip_and_location_are_recorded,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (viewer, _) = user_with_sessions(&app, "roaming@example.com", 0).await;
        let email = "roaming@example.com";

        let token = login_with_headers(&app, email, &FORWARDED).await;
        let d = device(&app, &token, &viewer[0]).await;
        assert_eq!(
            d["ip_address"], "203.0.113.9",
            "the right-most public X-Forwarded-For entry"
        );
        assert_eq!(d["location"], "Berlin, DE");

        let headers = [
            ("True-Client-IP", "198.51.100.4"),
            ("Cf-Connecting-IP", "198.51.100.5"),
            ("X-Forwarded-For", "203.0.113.9"),
            ("User-Agent", "Sesame-Test/1.0"),
        ];
        let token = login_with_headers(&app, email, &headers).await;
        let d = device(&app, &token, &viewer[0]).await;
        assert_eq!(
            d["ip_address"], "198.51.100.4",
            "True-Client-IP comes first"
        );
        assert_eq!(d["user_agent"], "Sesame-Test/1.0");
        assert_eq!(d["location"], "");

        let token = login_with_headers(
            &app,
            email,
            &[("Cf-Connecting-IP", "2001:db8::7"), ("Cf-Ipcountry", "NL")],
        )
        .await;
        let d = device(&app, &token, &viewer[0]).await;
        assert_eq!(d["ip_address"], "2001:db8::7");
        assert_eq!(d["location"], "NL");

        let token = login_with_headers(&app, email, &[]).await;
        assert_eq!(
            device(&app, &token, &viewer[0]).await["ip_address"],
            "127.0.0.1"
        );
    }
);

api_test!(
    from_an_untrusted_peer_forwarding_headers_are_ignored,
    |backend| async move {
        // Loopback (the test client) is no longer a trusted proxy.
        let app = TestApp::builder(backend)
            .env("SERVE_PUBLIC_TRUSTED_PROXIES", "10.0.0.0/8")
            .spawn()
            .await;
        let (viewer, _) = user_with_sessions(&app, "spoofer@example.com", 0).await;
        let email = "spoofer@example.com";
        for headers in [
            &FORWARDED[..],
            &[
                ("True-Client-IP", "198.51.100.4"),
                ("X-Real-IP", "198.51.100.6"),
            ][..],
            &[
                ("Cf-Connecting-IP", "198.51.100.5"),
                ("Cf-Ipcity", "Paris"),
                ("Cf-Ipcountry", "FR"),
            ][..],
        ] {
            let token = login_with_headers(&app, email, headers).await;
            let d = device(&app, &token, &viewer[0]).await;
            assert_eq!(
                d["ip_address"], "127.0.0.1",
                "spoofing refused: {headers:?}"
            );
            assert_eq!(d["location"], "", "{headers:?}");
        }
    }
);
