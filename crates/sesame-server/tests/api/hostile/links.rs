//! Pagination links carry the parameters an endpoint knows, never the raw query: a 41 KB query
//! used to come back three times over in `Link`.

use super::*;

/// 41 KB of parameters no listing knows.
fn junk() -> String {
    (0..1100)
        .map(|i| format!("junk{i:04}=abcdefghijklmnopqrstuvwxyz0123"))
        .collect::<Vec<_>>()
        .join("&")
}

fn link(res: &Response) -> String {
    res.headers()["link"].to_str().unwrap().to_owned()
}

api_test!(
    pagination_links_keep_known_parameters_only,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let (token, id) = user(&app, "links@example.com").await;
        let junk = junk();
        assert!(junk.len() > 40_000);

        let res = app
            .public(Method::GET, &format!("/sessions?{junk}&per_page=1"))
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let l = link(&res);
        assert!(l.len() < 400, "{l}");
        assert!(!l.contains("junk"), "{l}");
        assert!(l.starts_with("</sessions?page=0&page_size=1&"), "{l}");

        for (path, kept) in [
            (
                format!(
                    "/admin/identities?{junk}&credentials_identifier=links%40example.com&page_size=1"
                ),
                "credentials_identifier=links%40example.com",
            ),
            (
                format!("/admin/identities?{junk}&page=0&per_page=1"),
                "per_page=1",
            ),
            (
                format!("/admin/sessions?{junk}&active=true&expand=identity&page_size=1"),
                "active=true&expand=identity",
            ),
            (
                format!("/admin/identities/{id}/sessions?{junk}&active=true"),
                "active=true",
            ),
        ] {
            let res = app.admin(Method::GET, &path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let l = link(&res);
            assert!(l.len() < 1000, "{l}");
            assert!(!l.contains("junk"), "{l}");
            assert!(l.contains(kept), "{kept} in {l}");
        }
    }
);
