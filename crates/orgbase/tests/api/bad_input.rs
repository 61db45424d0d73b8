//! Bad input gets a 4xx problem document with a code, never a 500.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Backend, Test, problem, spawn};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(bad_input_is_refused_cleanly),
    story!(id_shaped_slugs_and_bad_filters_are_refused),
];

/// Found by the outside audit: a slug could take another org's id (making that org
/// unreachable by it), and a bad `org` filter on the global audit log was ignored, so
/// the answer was every org's events.
async fn id_shaped_slugs_and_bad_filters_are_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("a@example.com", "A").await;
    let victim = app.signup("v@example.com", "V").await;
    let org = format!("/api/v1/orgs/{}", a.org_id);
    for slug in [
        victim.org_id.clone(),
        victim.org_id.replace('-', ""),
        "01a231db-0000-7000-8000-000000000000".to_string(),
    ] {
        problem(
            &app.patch(&org, &a.token, json!({"slug": slug})).await,
            400,
            "invalid_slug",
        );
    }
    let (st, made) = app
        .post(
            "/api/v1/orgs",
            &a.token,
            json!({"name": "01a231db-a860-7693-9089-cac8f685ea00"}),
        )
        .await;
    assert_eq!(st, 201, "{made}");
    assert!(
        uuid::Uuid::parse_str(made["slug"].as_str().unwrap()).is_err(),
        "{made}"
    );

    let admin = app.admin_token().await;
    for q in [
        "org=garbage",
        "org=",
        "action=no.such",
        "limit=0",
        "cursor=x",
    ] {
        let (st, body) = app.get(&format!("/api/v1/admin/audit?{q}"), &admin).await;
        assert_eq!(st, 400, "{q}: {body}");
    }
    let (st, _) = app
        .get(&format!("/api/v1/admin/audit?org={}", a.org_id), &admin)
        .await;
    assert_eq!(st, 200);
}

async fn bad_input_is_refused_cleanly(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("a@example.com", "A").await;
    let url = |p: &str| format!("{}{}", app.base, p);
    let send = |body: &'static str, ct: Option<&'static str>| {
        let mut r = app
            .client
            .post(url("/api/v1/orgs"))
            .bearer_auth(&a.token)
            .body(body);
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        async move {
            let res = r.send().await.unwrap();
            let st = res.status();
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            (st, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    problem(
        &send("{\"name\": ", Some("application/json")).await,
        400,
        "invalid_json",
    );
    problem(
        &send("{\"name\": 5}", Some("application/json")).await,
        400,
        "invalid_body",
    );
    problem(
        &send("{\"name\": \"x\", \"evil\": 1}", Some("application/json")).await,
        400,
        "invalid_body",
    );
    problem(
        &send("[]", Some("application/json")).await,
        400,
        "invalid_body",
    );
    problem(
        &send("{\"name\": \"x\"}", None).await,
        415,
        "unsupported_media_type",
    );
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(100_000));
    let res = app
        .client
        .post(url("/api/v1/orgs"))
        .bearer_auth(&a.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "payload_too_large"
    );

    problem(
        &app.post("/api/v1/orgs", &a.token, json!({"name": "x".repeat(201)}))
            .await,
        400,
        "invalid_name",
    );
    problem(
        &app.post(
            "/api/v1/orgs",
            &a.token,
            json!({"name": "ok", "description": "d".repeat(2001)}),
        )
        .await,
        400,
        "invalid_text",
    );
    problem(
        &app.post(
            "/api/v1/orgs",
            &a.token,
            json!({"name": "ok", "slug": "-bad-"}),
        )
        .await,
        400,
        "invalid_slug",
    );
    problem(
        &app.post("/api/v1/orgs", &a.token, json!({"name": "\u{0007}bell"}))
            .await,
        400,
        "invalid_name",
    );
    let signup =
        |email: &str, password: &str| json!({"email": email, "password": password, "name": "N"});
    problem(
        &app.call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup("not an email", "password-123")),
        )
        .await,
        400,
        "invalid_email",
    );
    problem(
        &app.call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup(&format!("{}@x.io", "a".repeat(300)), "password-123")),
        )
        .await,
        400,
        "invalid_email",
    );
    problem(
        &app.call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup("n@example.com", "short")),
        )
        .await,
        400,
        "invalid_password",
    );
    problem(
        &app.call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup("n@example.com", &"p".repeat(2000))),
        )
        .await,
        400,
        "invalid_password",
    );

    // Unknown and malformed ids are "not found".
    problem(
        &app.get(
            "/api/v1/orgs/00000000-0000-0000-0000-000000000000",
            &a.token,
        )
        .await,
        404,
        "org_not_found",
    );
    problem(
        &app.get("/api/v1/orgs/NOT_A_SLUG!", &a.token).await,
        404,
        "org_not_found",
    );
    problem(
        &app.get(
            &format!("/api/v1/orgs/{}/workspaces/xyz", a.org_id),
            &a.token,
        )
        .await,
        404,
        "workspace_not_found",
    );
    problem(
        &app.delete("/api/v1/me/api-keys/nope", &a.token).await,
        404,
        "api_key_not_found",
    );
    problem(
        &app.patch(
            &format!("/api/v1/orgs/{}/members/nope", a.org_id),
            &a.token,
            json!({"role": "viewer"}),
        )
        .await,
        404,
        "member_not_found",
    );

    // Pagination parameters.
    for q in ["limit=0", "limit=201", "limit=ten", "limit=-1"] {
        problem(
            &app.get(&format!("/api/v1/orgs?{q}"), &a.token).await,
            400,
            "invalid_limit",
        );
    }
    problem(
        &app.get("/api/v1/orgs?cursor=abc", &a.token).await,
        400,
        "invalid_cursor",
    );
    problem(
        &app.get("/api/v1/orgs?bogus=1", &a.token).await,
        400,
        "invalid_query",
    );

    // Routing.
    problem(
        &app.get("/api/v1/nothing-here", &a.token).await,
        404,
        "route_not_found",
    );
    problem(
        &app.call(Method::PUT, "/api/v1/orgs", Some(&a.token), None)
            .await,
        405,
        "method_not_allowed",
    );

    // Nothing above wrote anything: the audit trail has only the sign-up's org.create.
    let (_, events) = app
        .get(&format!("/api/v1/orgs/{}/audit", a.org_id), &a.token)
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    let (_, mine) = app.get("/api/v1/orgs", &a.token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}
