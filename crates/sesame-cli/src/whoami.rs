//! `sesame whoami`: `toSession` from the command line, through the SDK (sesame-client).

use sesame_client::Client;

/// Prints the session as JSON; an error becomes one line with its id (`session_inactive`, …).
pub async fn run(
    endpoint: &str,
    token: Option<String>,
    cookie: Option<String>,
) -> Result<(), String> {
    let client = Client::builder(endpoint)
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = client.to_session();
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        request = request.x_session_token(&token);
    }
    if let Some(cookie) = cookie.filter(|c| !c.is_empty()) {
        request = request.cookie(&cookie);
    }
    match request.send().await {
        Ok(res) => {
            let json = serde_json::to_string_pretty(&res.data).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
        Err(e) => Err(match (e.id(), e.status()) {
            (Some(id), Some(status)) => format!("{id} ({status})"),
            _ => e.to_string(),
        }),
    }
}
