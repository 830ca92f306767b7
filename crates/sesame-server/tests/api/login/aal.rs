//! `aal`: a second-factor login needs a session (through the SDK); an unknown level is a 400.

use super::*;

api_test!(
    login_api_init_with_aal2_and_no_session_answers_401_session_aal1_required,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let err = app
            .sdk()
            .create_native_login_flow()
            .aal(Aal::Aal2)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(err.id(), Some("session_aal1_required"));
        let res = err.response.as_ref().unwrap();
        assert_eq!(res.headers["ory-error-id"], "session_aal1_required");
        let expected = json!({"error": {
            "id": "session_aal1_required",
            "code": 401,
            "status": "Unauthorized",
            "reason": "You can not requested a higher AAL (AAL2/AAL3) without an active session.",
            "message": "aal2 and aal3 can only be requested if a session exists already"
        }});
        assert_eq!(res.text(), format!("{expected}\n"));
    }
);

api_test!(
    login_api_init_with_an_unknown_aal_answers_400,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/self-service/login/api?aal=bogus")
            .send()
            .await
            .unwrap();
        let body = expect_json(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["status"], "Bad Request");
        let reason = body["error"]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("Unable to parse AuthenticationMethod Assurance Level (AAL): "),
            "{reason}"
        );
    }
);
