//! `selfservice.allowed_return_urls` matches whole path segments: an allowed
//! `https://app.example.com/welcome` allows `/welcome/…`, never `/welcomeevil`.

use super::*;

api_test!(
    return_to_must_stay_within_the_allowed_path_segments,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/welcome",
            )
            .spawn()
            .await;
        let init = |return_to: &str| {
            app.public(Method::GET, "/self-service/login/browser")
                .query(&[("return_to", return_to)])
                .send()
        };
        for allowed in [
            "https://app.example.com/welcome",
            "https://app.example.com/welcome/",
            "https://app.example.com/welcome/next?x=1",
            "https://app.example.com/welcome?x=1",
        ] {
            let res = init(allowed).await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{allowed}");
        }
        for refused in [
            "https://app.example.com/welcomeevil",
            "https://app.example.com/welcome.evil/",
            "https://app.example.com/welcome/../admin",
            "https://app.example.com/",
        ] {
            let res = init(refused).await.unwrap();
            let body = expect_json(res, StatusCode::BAD_REQUEST).await;
            assert_eq!(
                body["error"]["id"], "self_service_flow_return_to_forbidden",
                "{refused}: {body}"
            );
        }
    }
);
