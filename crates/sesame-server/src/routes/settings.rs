//! Settings flows (spec part 2, §1): a signed-in identity manages its profile, password and
//! second factors. Each endpoint answers a missing session, a missing second factor and an old
//! session in its own way, as Kratos does; the rest is `SettingsService`.

use super::core_err;
use super::login::{flow_id, return_to};
use crate::browser::{is_json_request, respond};
use crate::error::ApiError;
use crate::extract::{
    Client, RequestToken, SubmitBody, browser_header_reason, csrf_input, query_param, request_url,
};
use crate::json::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value};
use sesame_core::CoreError;
use sesame_core::services::{SettingsAnswer, SettingsInit, SubmitContext};
use sesame_types::{ContinueWith, FlowType, SettingsFlow};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/self-service/settings/api", get(init_api))
        .route("/self-service/settings/browser", get(init_browser))
        .route("/self-service/settings/flows", get(get_flow))
        .route("/self-service/settings", get(resume).post(submit))
}

/// `<public>/self-service/login/browser?aal=aal2[&return_to=…]`, where a session still owing its
/// second factor is sent.
fn second_factor_url(state: &AppState, return_to: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("aal", "aal2");
    if let Some(r) = return_to {
        query.append_pair("return_to", r);
    }
    format!(
        "{}self-service/login/browser?{}",
        state.public_base_url,
        query.finish()
    )
}

/// The 401 of the fetch and submit endpoints (no `id`, Kratos's generic unauthorized body), or
/// a 302 to the login UI for browsers.
fn unauthorized(state: &AppState, json: bool) -> ApiError {
    if !json {
        return ApiError::Redirect(state.browser.login_ui.clone(), StatusCode::FOUND);
    }
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        None,
        Some("A valid Ory Session Cookie or Ory Session Token is missing.".into()),
        Some("The request could not be authorized".into()),
    )
}

async fn init_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<SettingsFlow>, ApiError> {
    let init = SettingsInit {
        flow_type: FlowType::Api,
        request_url: request_url(&state, &headers, &uri),
        return_to: query_param(&uri, "return_to").filter(|s| !s.is_empty()),
        csrf: None,
    };
    match state.settings.init(init, token.get(), state.now()).await {
        Ok(flow) => Ok(Json(flow)),
        Err(CoreError::NoSession) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Some("session_inactive"),
            Some(
                "This endpoint can only be accessed with a valid session. Please log in and try again."
                    .into(),
            ),
            Some("request does not have a valid authentication session".into()),
        )),
        Err(CoreError::Aal2Required) => Err(ApiError::aal2_required(&second_factor_url(
            &state, None,
        ))),
        Err(e) => Err(core_err(&state)(e)),
    }
}

/// The flow as JSON for single-page apps, else a 303 to the settings UI; browsers without a
/// session are sent to sign in first (keeping `return_to`).
async fn init_browser(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    let now = state.now();
    let json = is_json_request(&headers);
    let (csrf, set_csrf) = super::flow_csrf(&state, &headers, now);
    let requested_return_to = query_param(&uri, "return_to").filter(|s| !s.is_empty());
    let url = request_url(&state, &headers, &uri);
    let init = SettingsInit {
        flow_type: FlowType::Browser,
        request_url: url.clone(),
        return_to: return_to(&state, &uri)?,
        csrf: Some(csrf),
    };
    let mut res = match state.settings.init(init, token.get(), now).await {
        Ok(flow) if json => Json(flow).into_response(),
        Ok(flow) => respond::redirect(
            StatusCode::SEE_OTHER,
            &respond::flow_url(&state.browser.settings_ui, flow.id),
        ),
        Err(CoreError::NoSession) if json => {
            let mut extra = Map::new();
            extra.insert("CredentialsMissing".into(), Value::Bool(false));
            // Kratos's Go struct leaks its untagged field into this body; clients may read it.
            return Err(core_err(&state)(CoreError::SessionRequired).with_extra(extra));
        }
        Err(CoreError::NoSession) => {
            let mut login = format!("{}self-service/login/browser", state.public_base_url);
            if let Some(r) = &requested_return_to {
                login.push('?');
                login.push_str(
                    &form_urlencoded::Serializer::new(String::new())
                        .append_pair("return_to", r)
                        .finish(),
                );
            }
            respond::redirect(StatusCode::SEE_OTHER, &login)
        }
        Err(CoreError::Aal2Required) => {
            // The init URL comes back only when it asked for a `return_to` (spec §1.3).
            let to = second_factor_url(&state, requested_return_to.as_ref().map(|_| url.as_str()));
            if json {
                return Err(ApiError::aal2_required(&to));
            }
            respond::redirect(StatusCode::SEE_OTHER, &to)
        }
        Err(e) => return Err(core_err(&state)(e)),
    };
    respond::set_cookie(&mut res, set_csrf);
    Ok(res)
}

async fn get_flow(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
) -> Result<Json<SettingsFlow>, ApiError> {
    let id = flow_id(&uri, "id")?;
    match state.settings.get(id, token.get(), state.now()).await {
        Ok(flow) => Ok(Json(flow)),
        Err(CoreError::NoSession) => Err(unauthorized(&state, is_json_request(&headers))),
        // This endpoint never redirects: the browser is told where to go.
        Err(CoreError::Aal2Required) => {
            let back = respond::flow_url(&state.browser.settings_ui, id.0);
            Err(ApiError::aal2_required(&second_factor_url(
                &state,
                Some(&back),
            )))
        }
        Err(e) => Err(core_err(&state)(e)),
    }
}

/// `GET /self-service/settings?flow=`: where a browser returns after re-authenticating. Sesame
/// keeps no continuity container, so a browser is sent back to the settings UI to submit the change
/// again; other clients get the submit answer for an empty body (Kratos answers the same without
/// its continuity cookie).
async fn resume(
    state: State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    token: RequestToken,
    client: Client,
) -> Result<Response, ApiError> {
    if !is_json_request(&headers) {
        let id = flow_id(&uri, "flow")?;
        return Ok(respond::redirect(
            StatusCode::SEE_OTHER,
            &respond::flow_url(&state.browser.settings_ui, id.0),
        ));
    }
    submit(
        state,
        headers,
        uri,
        token,
        client,
        SubmitBody(Ok(Value::Object(Map::new()))),
    )
    .await
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
    let submit_url = format!(
        "{}self-service/settings?{}",
        state.public_base_url,
        uri.query().unwrap_or_default()
    );
    match state.settings.submit(id, body, &ctx, now).await {
        Ok(SettingsAnswer::Updated {
            flow,
            method,
            session_expires_at,
        }) => {
            let destination = flow
                .return_to
                .clone()
                .or_else(|| {
                    state
                        .browser
                        .settings_method_return
                        .iter()
                        .find(|(m, _)| *m == method)
                        .map(|(_, u)| u.clone())
                })
                .or_else(|| state.browser.settings_return.clone())
                .unwrap_or_else(|| respond::flow_url(&state.browser.settings_ui, flow.id));
            if flow.flow_type == FlowType::Api {
                return Ok(Json(*flow).into_response());
            }
            let mut res = if json {
                let mut flow = *flow;
                flow.continue_with = Some(vec![ContinueWith::RedirectBrowserTo {
                    redirect_browser_to: destination,
                }]);
                Json(flow).into_response()
            } else {
                respond::redirect(StatusCode::SEE_OTHER, &destination)
            };
            if let Some(token) = &ctx.token {
                respond::set_cookie(
                    &mut res,
                    respond::session_cookie(&state, token, session_expires_at, now),
                );
            }
            Ok(res)
        }
        Ok(SettingsAnswer::Shown(flow)) => {
            if flow.flow_type == FlowType::Api || json {
                Ok(Json(*flow).into_response())
            } else {
                Ok(respond::redirect(
                    StatusCode::SEE_OTHER,
                    &respond::flow_url(&state.browser.settings_ui, flow.id),
                ))
            }
        }
        Err(CoreError::NoSession) => Err(unauthorized(&state, json)),
        // Kratos names the flow in this 404 (`updateSettingsFlow`), unlike the fetch's generic one.
        Err(CoreError::NotFound) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            None,
            Some("The settings request could not be found. Please restart the flow.".into()),
            None,
        )),
        Err(CoreError::Aal2Required) => {
            let to = second_factor_url(&state, Some(&submit_url));
            Err(redirect_or(json, to.clone(), ApiError::aal2_required(&to)))
        }
        Err(CoreError::RefreshRequired) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("refresh", "true");
            query.append_pair("return_to", &submit_url);
            let to = format!(
                "{}self-service/login/browser?{}",
                state.public_base_url,
                query.finish()
            );
            Err(redirect_or(
                json,
                to.clone(),
                ApiError::refresh_required(&to),
            ))
        }
        Err(CoreError::IdentityMismatch { .. }) if !json => Err(ApiError::Redirect(
            format!(
                "{}?error=security_identity_mismatch",
                state.browser.error_ui
            ),
            StatusCode::SEE_OTHER,
        )),
        Err(e) => Err(super::browser_flow_error(
            &state,
            e,
            json,
            &state.browser.settings_ui,
            StatusCode::SEE_OTHER,
        )),
    }
}

/// HTML form posts follow the redirect; JSON requests get the error body.
fn redirect_or(json: bool, to: String, error: ApiError) -> ApiError {
    if json {
        error
    } else {
        ApiError::Redirect(to, StatusCode::SEE_OTHER)
    }
}
