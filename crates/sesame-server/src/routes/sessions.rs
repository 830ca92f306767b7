//! `/sessions/whoami` (the SDKs' `toSession`): the hot path. Thin by design; see DESIGN.md.

use super::core_err;
use crate::browser::respond;
use crate::error::ApiError;
use crate::extract::{RequestToken, query_param};
use crate::state::AppState;
use crate::whoami_body::{self, RenderedAnswer};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use std::sync::Arc;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/sessions/whoami", any(whoami))
}

/// Answers who the request belongs to.
async fn whoami(
    State(state): State<AppState>,
    uri: Uri,
    token: RequestToken,
) -> Result<Response, ApiError> {
    if let Some(template) = query_param(&uri, "tokenize_as") {
        // No tokenizer templates can be configured yet, so every name is unknown.
        return Err(ApiError::bad_request(format!(
            "Unable to find tokenizer template \"{template}\"."
        )));
    }
    let now = state.now();
    let answer = match state.sessions.whoami(token.get(), now).await {
        Ok(answer) => answer,
        // §1.7: a request without any credentials may be answered from a cache for a minute.
        Err(e) if state.cacheable_sessions && token.get().is_none() => {
            let mut res = core_err(&state)(e).into_response();
            res.headers_mut()
                .insert(CACHE_FOR, HeaderValue::from_static("60"));
            return Ok(res);
        }
        Err(e) => return Err(core_err(&state)(e)),
    };
    let cache_for = state.cacheable_sessions.then(|| {
        cache_for(
            answer.session.expires_at - now,
            state.cacheable_sessions_max_age,
        )
    });
    // §1.5: a session cookie whose recorded expiry is behind the session's (after an extension) is
    // re-issued for the session that was found.
    let refresh = match (&token.cookie, &token.token) {
        (Some(cookie), Some(t)) if cookie.expires_at < answer.session.expires_at => {
            respond::session_cookie(&state, t, answer.session.expires_at, now)
        }
        _ => None,
    };
    let render = || {
        RenderedAnswer::new(
            &answer.session,
            &answer.identity,
            &state.identity_json,
            &state.public_base_url,
        )
    };
    // A cached answer is rendered once: what the cache entry's memo keeps is reused while the
    // entry lives and shows the same identity.
    let rendered = answer
        .memo
        .as_ref()
        .and_then(|memo| memo.get_or_init(render))
        .filter(|kept| Arc::ptr_eq(&kept.identity, &answer.identity))
        .unwrap_or_else(|| Arc::new(render()));
    let mut res = whoami_body::response(rendered.body.clone());
    if let Some(id) = &rendered.identity_id {
        res.headers_mut()
            .insert("x-kratos-authenticated-identity-id", id.clone());
    }
    if let Some(Ok(seconds)) = cache_for {
        res.headers_mut().insert(CACHE_FOR, seconds);
    }
    respond::set_cookie(&mut res, refresh);
    Ok(res)
}

/// How long a caching proxy may keep a whoami answer (`feature_flags.cacheable_sessions`).
const CACHE_FOR: &str = "ory-session-cache-for";

/// §1.5: the time left until the session expires, capped by `max_age` when that is not zero, in
/// seconds as Go's `%.0f` prints a `Duration.Seconds()` (rounded half to even).
fn cache_for(
    left: chrono::Duration,
    max_age: std::time::Duration,
) -> Result<HeaderValue, axum::http::header::InvalidHeaderValue> {
    let cap = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let left = if !max_age.is_zero() && left > cap {
        cap
    } else {
        left
    };
    let seconds = left.num_seconds() as f64 + f64::from(left.subsec_nanos()) / 1e9;
    HeaderValue::from_str(&format!("{seconds:.0}"))
}

#[cfg(test)]
mod tests {
    use super::cache_for;
    use chrono::Duration;

    fn header(left: Duration, max_age_secs: u64) -> String {
        cache_for(left, std::time::Duration::from_secs(max_age_secs))
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn cache_for_is_the_time_left_rounded_like_go() {
        assert_eq!(header(Duration::hours(24), 0), "86400");
        assert_eq!(header(Duration::milliseconds(86_399_400), 0), "86399");
        assert_eq!(header(Duration::milliseconds(86_399_600), 0), "86400");
        // Go's %.0f rounds halves to even.
        assert_eq!(header(Duration::milliseconds(2_500), 0), "2");
        assert_eq!(header(Duration::milliseconds(3_500), 0), "4");
        assert_eq!(header(Duration::milliseconds(400), 0), "0");
    }

    #[test]
    fn cache_for_is_capped_by_a_max_age() {
        assert_eq!(header(Duration::hours(24), 3600), "3600");
        assert_eq!(header(Duration::seconds(90), 3600), "90");
        assert_eq!(header(Duration::milliseconds(3_599_700), 3600), "3600");
    }
}
