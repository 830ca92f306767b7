//! Login flows: API (native apps) and browser (HTML forms and single-page apps).

use super::core_err;
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
use axum::routing::get;
use sesame_core::aal::Aal;
use sesame_core::services::{LoginInit, SubmitContext};
use sesame_core::{CoreError, FlowId};
use sesame_types::{ContinueWith, FlowType, LoginFlow};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/self-service/login/api", get(init_api))
        .route("/self-service/login/browser", get(init_browser))
        .route("/self-service/login/flows", get(get_flow))
        .route("/self-service/login", axum::routing::post(submit))
}

/// Parses `aal=` as Kratos does.
pub fn parse_aal(uri: &Uri) -> Result<Aal, ApiError> {
    match query_param(uri, "aal").as_deref() {
        None | Some("") | Some("aal1") => Ok(Aal::Aal1),
        Some("aal2") => Ok(Aal::Aal2),
        Some("aal3") => Ok(Aal::Aal3),
        Some(other) => Err(ApiError::bad_request(format!(
            "Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1, aal2, aal3] but got {other}"
        ))),
    }
}

/// The `flow` (submit) or `id` (fetch) query parameter as a flow id.
pub fn flow_id(uri: &Uri, name: &str) -> Result<FlowId, ApiError> {
    query_param(uri, name)
        .and_then(|v| FlowId::parse(&v).ok())
        .ok_or_else(|| ApiError::bad_request("The flow query parameter is missing or malformed."))
}

/// `return_to`, checked against `selfservice.allowed_return_urls`.
pub fn return_to(state: &AppState, uri: &Uri) -> Result<Option<String>, ApiError> {
    state
        .browser
        .return_to(query_param(uri, "return_to").as_deref())
        .map_err(|url| core_err(state)(CoreError::ReturnToForbidden(url)))
}

fn init(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    flow_type: FlowType,
    csrf: Option<String>,
) -> Result<LoginInit, ApiError> {
    Ok(LoginInit {
        flow_type,
        request_url: request_url(state, headers, uri),
        refresh: query_param(uri, "refresh").as_deref() == Some("true"),
        aal: parse_aal(uri)?,
        return_to: match flow_type {
            FlowType::Api => query_param(uri, "return_to").filter(|s| !s.is_empty()),
            FlowType::Browser => return_to(state, uri)?,
        },
        csrf,
    })
}

async fn init_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<LoginFlow>, ApiError> {
    let init = init(&state, &headers, &uri, FlowType::Api, None)?;
    let flow = state
        .login
        .init(init, token.get(), state.now())
        .await
        .map_err(core_err(&state))?;
    Ok(Json(flow))
}

/// Creates a browser flow bound to the anti-CSRF cookie (set if missing): the flow as JSON for
/// single-page apps, else a 303 to the login UI.
async fn init_browser(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    let now = state.now();
    let json = is_json_request(&headers);
    let (csrf, set_csrf) = super::flow_csrf(&state, &headers, now);
    let init = init(&state, &headers, &uri, FlowType::Browser, Some(csrf))?;
    let return_to = init.return_to.clone();
    let created = state.login.init(init, token.get(), now).await.map(|f| {
        let id = f.id;
        (f, id)
    });
    super::browser_init_answer(
        &state,
        created,
        json,
        &state.browser.login_ui,
        return_to.as_deref(),
        set_csrf,
    )
}

async fn get_flow(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<LoginFlow>, ApiError> {
    let id = flow_id(&uri, "id")?;
    let cookie = csrf_cookie(&state, &headers);
    let flow = state
        .login
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
    let done = match state.login.submit(id, body, &ctx, now).await {
        Ok(done) => done,
        // A browser that is already signed in is sent on, as Kratos does.
        Err(CoreError::SessionAlreadyAvailable { .. }) if !json => {
            return Ok(respond::redirect(
                StatusCode::SEE_OTHER,
                &state.browser.default_return,
            ));
        }
        Err(e) => {
            return Err(super::browser_flow_error(
                &state,
                e,
                json,
                &state.browser.login_ui,
                StatusCode::SEE_OTHER,
            ));
        }
    };
    if done.flow_type == FlowType::Api {
        return Ok(Json(done.body).into_response());
    }
    let destination = done
        .return_to
        .clone()
        .unwrap_or_else(|| state.browser.default_return.clone());
    // A password is not enough for an identity with a second factor: the browser continues with
    // an `aal=aal2` flow, keeping its `return_to` (the session cookie is set either way).
    let second_factor = done.needs_second_factor.then(|| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("aal", "aal2");
        if let Some(r) = &done.return_to {
            query.append_pair("return_to", r);
        }
        format!(
            "{}self-service/login/browser?{}",
            state.public_base_url,
            query.finish()
        )
    });
    let mut res = if let Some(to) = &second_factor {
        if json {
            ApiError::browser_location_change(to).into_response()
        } else {
            respond::redirect(StatusCode::SEE_OTHER, to)
        }
    } else if json {
        let mut body = done.body;
        body.session_token = None;
        body.continue_with = Some(vec![ContinueWith::RedirectBrowserTo {
            redirect_browser_to: destination,
        }]);
        Json(body).into_response()
    } else {
        respond::redirect(StatusCode::SEE_OTHER, &destination)
    };
    respond::set_cookie(
        &mut res,
        respond::session_cookie(&state, &done.token, done.expires_at, now),
    );
    // A new session gets a new anti-CSRF token (spec §4.4); re-authenticating the session the
    // request already carried keeps it, as in Kratos.
    if ctx.token.as_ref() != Some(&done.token) {
        respond::set_cookie(&mut res, respond::new_csrf_cookie(&state, now).1);
    }
    Ok(res)
}
