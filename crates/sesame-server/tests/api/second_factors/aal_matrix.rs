//! The whoami AAL rule (spec §1.4, §1.7) over the whole matrix: an identity with or without a
//! second factor × a session at aal1 or aal2 × `session.whoami.required_aal` aal1 or
//! `highest_available`. Sessions come from real flows: a password login (aal1), a TOTP link
//! (aal2), and a TOTP unlink (an aal2 session of an identity without second factor).

use super::*;
use sesame_testkit::reqwest::Method;
use sesame_testkit::{Backend, TestApp, api_test};

const AAL2_REASON: &str = "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.";

/// One cell of the matrix: a label and the session token.
struct Cell {
    label: &'static str,
    token: String,
    session_aal: Aal,
}

/// The four sessions of the matrix, on an app configured with `required_aal`.
async fn matrix(backend: Backend, required_aal: &str) -> (TestApp, Vec<Cell>) {
    let app = mfa(TestApp::builder(backend))
        .env("SESSION_WHOAMI_REQUIRED_AAL", required_aal)
        .spawn()
        .await;
    let sdk = app.sdk();
    // Without a second factor, aal1: a plain sign-up.
    let (plain, _) = sign_up(&sdk, "plain@example.com").await;
    // Without a second factor, aal2: linked, then unlinked (the session keeps its aal2 AMR).
    let (was_mfa, _, _) = user_with_totp(&app, "was-mfa@example.com").await;
    let flow = settings_flow(&sdk, &was_mfa).await;
    sdk.update_settings_flow(flow.id, &UpdateSettingsFlowBody::totp_unlink())
        .x_session_token(&was_mfa)
        .await
        .unwrap();
    // With a second factor: the session that linked it (aal2) and a password-only one (aal1).
    let (mfa_aal2, _, _) = user_with_totp(&app, "mfa@example.com").await;
    let mfa_aal1 = password_only_session(&sdk, "mfa@example.com").await;
    let cells = vec![
        Cell {
            label: "no second factor, aal1",
            token: plain,
            session_aal: Aal::Aal1,
        },
        Cell {
            label: "no second factor, aal2",
            token: was_mfa,
            session_aal: Aal::Aal2,
        },
        Cell {
            label: "second factor, aal1",
            token: mfa_aal1,
            session_aal: Aal::Aal1,
        },
        Cell {
            label: "second factor, aal2",
            token: mfa_aal2,
            session_aal: Aal::Aal2,
        },
    ];
    (app, cells)
}

/// whoami for `token`, raw: the status and, for a 403, the exact self-rendering body.
async fn whoami(app: &TestApp, cell: &Cell) -> StatusCode {
    let res = app
        .public(Method::GET, "/sessions/whoami")
        .header("X-Session-Token", &cell.token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    if status == StatusCode::OK {
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["authenticator_assurance_level"],
            cell.session_aal.as_str(),
            "{}",
            cell.label
        );
        return status;
    }
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", cell.label);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["ory-error-id"], "session_aal2_required");
    let to = format!("{}/self-service/login/browser?aal=aal2", app.public_url);
    assert_eq!(
        res.text().await.unwrap(),
        format!(
            "{{\"error\":{{\"id\":\"session_aal2_required\",\"code\":403,\"status\":\"Forbidden\",\"reason\":\"{AAL2_REASON}\",\"details\":{{\"redirect_browser_to\":\"{to}\"}},\"message\":\"Session does not fulfill the requested Authenticator Assurance Level\"}},\"redirect_browser_to\":\"{to}\"}}\n"
        ),
        "{}",
        cell.label
    );
    status
}

api_test!(
    whoami_under_required_aal1_answers_every_session_of_the_matrix,
    |backend| async move {
        let (app, cells) = matrix(backend, "aal1").await;
        for cell in &cells {
            assert_eq!(whoami(&app, cell).await, StatusCode::OK, "{}", cell.label);
        }
    }
);

api_test!(
    whoami_under_highest_available_refuses_only_the_aal1_session_of_an_identity_with_a_second_factor,
    |backend| async move {
        let (app, cells) = matrix(backend, "highest_available").await;
        let got: Vec<(&str, StatusCode)> = {
            let mut got = Vec::new();
            for cell in &cells {
                got.push((cell.label, whoami(&app, cell).await));
            }
            got
        };
        assert_eq!(
            got,
            [
                ("no second factor, aal1", StatusCode::OK),
                ("no second factor, aal2", StatusCode::OK),
                ("second factor, aal1", StatusCode::FORBIDDEN),
                ("second factor, aal2", StatusCode::OK),
            ]
        );
        // The default is `highest_available`.
        let app = mfa_app(TestApp::builder(app.backend.clone())).await;
        let (_, _, _) = user_with_totp(&app, "default@example.com").await;
        let sdk = app.sdk();
        let aal1 = password_only_session(&sdk, "default@example.com").await;
        let cell = Cell { label: "default config", token: aal1, session_aal: Aal::Aal1 };
        assert_eq!(whoami(&app, &cell).await, StatusCode::FORBIDDEN);
    }
);
