//! Admin paths without the prefix, and cross-port redirects.

use super::*;

api_test!(
    admin_paths_work_without_the_admin_prefix_on_the_admin_port,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::POST, "/identities")
            .json(&json!({"traits": {"email": "prefix@example.com"}}))
            .send()
            .await
            .unwrap();
        let created = expect_json(res, StatusCode::CREATED).await;
        let id = created["id"].as_str().unwrap();
        let (_, list) = get_json(&app, "/identities").await;
        assert_eq!(ids(&list), [id]);
        let (_, one) = get_json(&app, &format!("/identities/{id}")).await;
        assert_eq!(one["id"], id);
        assert_eq!(
            app.admin(Method::DELETE, &format!("/identities/{id}"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
    }
);

api_test!(
    admin_paths_on_the_public_port_redirect_to_the_admin_port_with_307,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .public(Method::GET, "/admin/identities?x=1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities?x=1", app.admin_url).as_str()
        );
        let res = app
            .public(Method::GET, "/identities?page_size=2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities?page_size=2", app.admin_url).as_str()
        );
        let id = uuid::Uuid::new_v4();
        let res = app
            .public(Method::DELETE, &format!("/admin/identities/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/admin/identities/{id}", app.admin_url).as_str()
        );
    }
);

api_test!(
    whoami_on_the_admin_port_redirects_to_the_public_port_with_307,
    |backend| async move {
        let app = TestApp::spawn(backend).await;
        let res = app
            .admin(Method::GET, "/admin/sessions/whoami")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/sessions/whoami", app.public_url).as_str()
        );
        let res = app
            .admin(Method::GET, "/sessions/whoami?tokenize_as=x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            res.headers()["location"],
            format!("{}/sessions/whoami?tokenize_as=x", app.public_url).as_str()
        );
    }
);
