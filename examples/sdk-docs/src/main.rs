//! `docs/sdk.md`, "A first program": asks Sesame who the session token in `SESSION_TOKEN` belongs
//! to (the Sesame at `SESAME_PUBLIC_URL`, by default `http://127.0.0.1:4433`).

use sesame_client::{Client, ErrorKind};

#[tokio::main]
async fn main() -> Result<(), sesame_client::Error> {
    let public_url = std::env::var("SESAME_PUBLIC_URL").unwrap_or("http://127.0.0.1:4433".into());
    let token = std::env::var("SESSION_TOKEN").unwrap_or_default();

    let sesame = Client::builder(public_url).build()?;
    match sesame.to_session().x_session_token(&token).await {
        Ok(res) => println!("signed in as identity {}", res.identity_id().unwrap_or("?")),
        Err(e) if matches!(e.kind, ErrorKind::SessionInactive) => println!("not signed in"),
        Err(e) => return Err(e),
    }
    Ok(())
}
