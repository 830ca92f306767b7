//! A browser's first visit to the public port: `/` and `/ui/` lead to a page, and the pages have an
//! icon, while other unknown paths keep Kratos's 404.

use super::browser::{Browser, location, tags};
use sesame_testkit::reqwest::{Method, StatusCode, header};
use sesame_testkit::{TestApp, api_test};

api_test!(
    the_root_and_the_ui_directory_send_a_browser_to_the_welcome_page,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let welcome = format!("{}/ui/welcome", app.public_url);
        for (method, path) in [
            (Method::GET, "/"),
            (Method::HEAD, "/"),
            (Method::GET, "/ui"),
            (Method::GET, "/ui/"),
            (Method::HEAD, "/ui/"),
        ] {
            let res = app.public(method.clone(), path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{method} {path}");
            assert_eq!(location(&res), welcome, "{method} {path}");
        }
        // The welcome page it leads to offers to sign in and up.
        let html = Browser::new(&app).page(&welcome).await;
        assert!(html.contains("You are not signed in"), "{html}");

        // Anything else unknown is still Go's 404, as Kratos answers it.
        for path in ["/nope", "/ui/nope", "/ui/welcome/"] {
            let res = app.public(Method::GET, path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(res.text().await.unwrap(), "404 page not found\n", "{path}");
        }
    }
);

api_test!(
    the_root_sends_a_browser_to_the_configured_default_return_url,
    |backend| async move {
        let app = TestApp::builder(backend)
            .env(
                "SELFSERVICE_DEFAULT_BROWSER_RETURN_URL",
                "https://app.example.com/home",
            )
            .spawn()
            .await;
        let res = app.public(Method::GET, "/").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "https://app.example.com/home");
        // The built-in UI's own start stays the built-in welcome page.
        let res = app.public(Method::GET, "/ui/").send().await.unwrap();
        assert_eq!(location(&res), format!("{}/ui/welcome", app.public_url));
    }
);

api_test!(
    the_pages_link_an_icon_in_the_ui_colours_served_as_svg_and_ico,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::new(&app);
        let res = browser.get("/ui/welcome").await;
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        // Icons are same-origin images: the policy allows them without getting any wider.
        assert!(
            csp.starts_with("default-src 'self'; img-src 'self' data:;"),
            "{csp}"
        );
        let html = res.text().await.unwrap();
        let icons: Vec<_> = tags(&html, "link")
            .into_iter()
            .filter(|l| l["rel"] == "icon")
            .collect();
        assert_eq!(icons.len(), 2, "{html}");
        assert_eq!(icons[0]["href"], "favicon.svg");
        assert_eq!(icons[0]["type"], "image/svg+xml");
        assert_eq!(icons[1]["href"], "../favicon.ico");

        let css = app
            .public(Method::GET, "/ui/style.css")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (path, content_type) in [
            ("/ui/favicon.svg", "image/svg+xml"),
            ("/favicon.ico", "image/x-icon"),
        ] {
            let res = app.public(Method::GET, path).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let headers = res.headers().clone();
            assert_eq!(headers[header::CONTENT_TYPE], content_type, "{path}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
            let cache = headers[header::CACHE_CONTROL].to_str().unwrap();
            assert!(cache.starts_with("public, max-age="), "{path}: {cache}");
            let body = res.bytes().await.unwrap();
            if path.ends_with(".svg") {
                let svg = std::str::from_utf8(&body).unwrap();
                assert!(svg.starts_with("<svg "), "{svg}");
                let fill = svg
                    .split("fill=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                assert!(css.contains(&format!("--primary: {fill};")), "{fill}");
                // Opened on its own, the icon may load nothing.
                assert_eq!(
                    headers[header::CONTENT_SECURITY_POLICY],
                    "default-src 'none'"
                );
            } else {
                // An ICO directory (reserved 0, type 1) of PNG images.
                assert_eq!(&body[..4], &[0, 0, 1, 0]);
                let count = usize::from(u16::from_le_bytes([body[4], body[5]]));
                assert!(count >= 2, "{count} images");
                for i in 0..count {
                    let entry = &body[6 + 16 * i..6 + 16 * (i + 1)];
                    let offset = u32::from_le_bytes(entry[12..16].try_into().unwrap()) as usize;
                    assert_eq!(&body[offset..offset + 8], b"\x89PNG\r\n\x1a\n");
                }
            }
        }
    }
);
