//! Runs the example next to `sesame serve --dev`:
//!
//! ```sh
//! SELFSERVICE_ALLOWED_RETURN_URLS=http://127.0.0.1:4455/ cargo run -p sesame-cli -- serve --dev
//! SESAME_PUBLIC_URL=http://127.0.0.1:4433 cargo run -p sesame-example-forward-cookie
//! ```
//!
//! then open http://127.0.0.1:4455/dashboard: it sends you to sign in, and back after signing in
//! (the allowed return URL lets Sesame honour `return_to`).

use sesame_example_forward_cookie::{Sesame, app};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let public_url =
        std::env::var("SESAME_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:4433".into());
    let addr = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:4455".into());
    let app = app(Sesame {
        public_url,
        app_url: format!("http://{addr}"),
    })?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("example app on http://{addr}/ (dashboard needs a Sesame session)");
    axum::serve(listener, app).await?;
    Ok(())
}
