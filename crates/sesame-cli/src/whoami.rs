//! `sesame whoami`: `toSession` from the command line, through the SDK (sesame-client).

use sesame_client::{Client, Error, ErrorKind, StatusCode};

/// Prints the session as JSON; an error becomes one line with its id (`session_inactive`, …) or
/// what to do about it.
pub async fn run(
    endpoint: &str,
    token: Option<String>,
    cookie: Option<String>,
) -> Result<(), String> {
    let token = token.filter(|t| !t.is_empty());
    let cookie = cookie.filter(|c| !c.is_empty());
    if token.is_none() && cookie.is_none() {
        return Err(
            "no session to ask about: pass --token TOKEN (or set SESAME_SESSION_TOKEN) or --cookie \
             'COOKIE HEADER'"
                .into(),
        );
    }
    if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
        return Err(format!(
            "--endpoint {endpoint:?} is not a URL: give the public API's, e.g. http://127.0.0.1:4433"
        ));
    }
    let client = Client::builder(endpoint)
        .build()
        .map_err(|e| format!("--endpoint {endpoint:?}: {}", e.kind))?;
    let mut request = client.to_session();
    if let Some(token) = &token {
        request = request.x_session_token(token);
    }
    if let Some(cookie) = &cookie {
        request = request.cookie(cookie);
    }
    match request.send().await {
        Ok(res) => {
            let json = serde_json::to_string_pretty(&res.data).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
        Err(e) => Err(explain(endpoint, &e)),
    }
}

/// One line for a failed whoami: the error id where the server gave one, else what went wrong
/// with the endpoint itself.
fn explain(endpoint: &str, e: &Error) -> String {
    if let (Some(id), Some(status)) = (e.id(), e.status()) {
        return format!("{id} ({status})");
    }
    match (&e.kind, &e.response) {
        (_, Some(res)) if res.status.is_redirection() => {
            let location = res
                .headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("elsewhere");
            let public = location
                .strip_suffix("/sessions/whoami")
                .map(|base| format!("; use --endpoint {base}"))
                .unwrap_or_default();
            format!(
                "{endpoint} is not a public API: it redirects whoami to {location}, as Sesame's \
                 admin port does{public}"
            )
        }
        (_, Some(res)) if res.status == StatusCode::NOT_FOUND => {
            format!("{endpoint} has no /sessions/whoami: is it Sesame's (or Kratos's) public API?")
        }
        // The transport's message is a chain of causes; the last one says what happened.
        (ErrorKind::Transport(cause), None) => format!(
            "cannot reach {endpoint}: {}; is `sesame serve` running, and is this its public URL \
             (--endpoint)?",
            cause.rsplit(": ").next().unwrap_or(cause)
        ),
        (ErrorKind::Timeout, _) => format!("{endpoint} did not answer in time"),
        _ => e.to_string(),
    }
}
