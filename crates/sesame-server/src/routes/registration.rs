//! Registration flows: API (native apps) and browser (HTML forms and single-page apps).

use super::core_err;
use super::login::{flow_id, return_to};
use crate::browser::{is_json_request, respond};
use crate::error::ApiError;
use crate::extract::{
    Client, RequestToken, SubmitBody, browser_header_reason, csrf_cookie, csrf_input, query_param,
    request_url,
};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sesame_core::CoreError;
use sesame_core::services::SubmitContext;
use sesame_types::{ContinueWith, FlowType, RegistrationFlow, SuccessfulNativeRegistration};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/self-service/registration/api", get(init_api))
        .route("/self-service/registration/browser", get(init_browser))
        .route("/self-service/registration/flows", get(get_flow))
        .route("/self-service/registration", post(submit))
}

async fn init_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<RegistrationFlow>, ApiError> {
    let return_to = query_param(&uri, "return_to").filter(|s| !s.is_empty());
    let flow = state
        .registration
        .init(
            FlowType::Api,
            request_url(&state, &headers, &uri),
            return_to,
            token.get(),
            None,
            state.now(),
        )
        .await
        .map_err(core_err(&state))?;
    Ok(Json(flow))
}

/// Creates a browser flow bound to the anti-CSRF cookie (set if missing): the flow as JSON for
/// single-page apps, else a 303 to the registration UI.
async fn init_browser(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    let now = state.now();
    let json = is_json_request(&headers);
    let return_to = return_to(&state, &uri)?;
    let (csrf, set_csrf) = super::flow_csrf(&state, &headers, now);
    let url = request_url(&state, &headers, &uri);
    let created = state
        .registration
        .init(
            FlowType::Browser,
            url,
            return_to.clone(),
            token.get(),
            Some(csrf),
            now,
        )
        .await
        .map(|f| {
            let id = f.id;
            (f, id)
        });
    super::browser_init_answer(
        &state,
        created,
        json,
        &state.browser.registration_ui,
        return_to.as_deref(),
        set_csrf,
    )
}

async fn get_flow(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<RegistrationFlow>, ApiError> {
    let id = flow_id(&uri, "id")?;
    let cookie = csrf_cookie(&state, &headers);
    let flow = state
        .registration
        .get(id, cookie.as_deref(), state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(flow))
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
    Client(client): Client,
    SubmitBody(body): SubmitBody,
) -> Result<Response, ApiError> {
    let id = flow_id(&uri, "flow")?;
    let now = state.now();
    let json = is_json_request(&headers);
    let ctx = SubmitContext {
        token: token.token,
        browser_header: browser_header_reason(&headers),
        csrf: csrf_input(&state, &headers),
        navigation: !json,
        client,
    };
    let done = match state.registration.submit(id, body, &ctx, now).await {
        Ok(done) => done,
        // A browser that is already signed in is sent on, as Kratos does.
        Err(CoreError::SessionAlreadyAvailable { .. }) if !json => {
            return Ok(respond::redirect(
                StatusCode::FOUND,
                &state.browser.default_return,
            ));
        }
        Err(e) => {
            return Err(super::browser_flow_error(
                &state,
                e,
                json,
                &state.browser.registration_ui,
                StatusCode::FOUND,
            ));
        }
    };
    let identity = state.registration.identity_wire(&done.identity);
    let session = done
        .token
        .as_ref()
        .map(|_| state.registration.session_wire(&done, now));
    if done.flow_type == FlowType::Api {
        return Ok(Json(match &done.token {
            Some(token) => SuccessfulNativeRegistration {
                session_token: Some(token.expose().to_owned()),
                session,
                identity,
                continue_with: Some(vec![ContinueWith::SetOrySessionToken {
                    ory_session_token: token.expose().to_owned(),
                }]),
            },
            None => SuccessfulNativeRegistration {
                session_token: None,
                session: None,
                identity,
                continue_with: None,
            },
        })
        .into_response());
    }
    let destination = done
        .return_to
        .clone()
        .unwrap_or_else(|| state.browser.default_return.clone());
    let mut res = if json {
        let continue_with = Some(vec![ContinueWith::RedirectBrowserTo {
            redirect_browser_to: destination,
        }]);
        Json(SuccessfulNativeRegistration {
            session_token: None,
            session,
            identity,
            continue_with,
        })
        .into_response()
    } else {
        respond::redirect(StatusCode::SEE_OTHER, &destination)
    };
    if let Some(token) = &done.token {
        respond::set_cookie(
            &mut res,
            respond::session_cookie(&state, token, done.session.expires_at, now),
        );
        respond::set_cookie(&mut res, respond::new_csrf_cookie(&state, now).1);
    }
    Ok(res)
}
