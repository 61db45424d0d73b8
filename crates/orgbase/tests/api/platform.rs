//! Health, metrics, request ids and the OpenAPI document.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{Backend, Test, spawn};
use crate::{story, test_on};

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(health_ready_metrics),
    test_on!(Sqlite, every_route_is_documented),
    story!(client_address_behind_trusted_proxies),
];

async fn health_ready_metrics(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (st, h) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((st.as_u16(), h["status"].as_str()), (200, Some("ok")));
    let (st, r) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(st, 200);
    assert_eq!(
        r["database"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    // Request ids: ours is echoed, a missing one is made up, an unsafe one replaced.
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "bad id\"")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id\"");
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            "orgbase_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3"
        ),
        "{text}"
    );
    assert!(
        text.contains("orgbase_http_request_duration_seconds_count{route=\"/readyz\"} 1"),
        "{text}"
    );
}

/// Every documented operation is routed to its handler, and documented fully: a
/// summary, a success response with its schema (or none for 204), and the problem
/// document for refusals. (Routes are registered only through the document's
/// annotations, so a route cannot be served undocumented.)
async fn every_route_is_documented() {
    let Some(app) = spawn(Backend::Sqlite).await else {
        return;
    };
    let (st, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, entry) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let what = format!("{method} {path}");
            assert!(
                !entry["summary"].as_str().unwrap_or("").is_empty(),
                "{what}: summary"
            );
            let id = entry["operationId"].as_str().unwrap_or("").to_string();
            assert!(
                operation_ids.insert(id.clone()),
                "{what}: duplicate operationId {id}"
            );
            let responses = entry["responses"].as_object().unwrap();
            assert_eq!(
                responses["default"]["$ref"], "#/components/responses/Problem",
                "{what}: refusals are problem documents"
            );
            let success: Vec<_> = responses.keys().filter(|k| k.starts_with('2')).collect();
            assert_eq!(success.len(), 1, "{what}: one success response");
            if success[0] != "204" {
                assert!(
                    responses[success[0].as_str()]["content"].is_object(),
                    "{what}: the success response has a schema"
                );
            }
            if matches!(method.as_str(), "post" | "put" | "patch")
                && entry.get("requestBody").is_some()
            {
                // JSON, or a CSV file for the bulk import.
                let content = &entry["requestBody"]["content"];
                let body = if content.get("text/csv").is_some() {
                    &content["text/csv"]["schema"]
                } else {
                    &content["application/json"]["schema"]
                };
                assert!(body.is_object(), "{what}: request body schema");
            }
            // Every `{param}` of the path is described.
            let declared: Vec<&str> = entry["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let mut concrete = path.clone();
            for seg in path.split('/') {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    assert!(
                        declared.contains(&name),
                        "{what}: path parameter {name} undocumented"
                    );
                    concrete = concrete.replace(seg, "00000000-0000-0000-0000-000000000000");
                }
            }
            // Call it with dummy parameters: whatever the answer, it must come from the
            // route's handler, not from the router's fallbacks.
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (_, body) = app
                .call(m, &concrete, None, Some(Value::Object(Default::default())))
                .await;
            assert_ne!(body["code"], "route_not_found", "{what}");
            assert_ne!(body["code"], "method_not_allowed", "{what}");
        }
    }
    // And the paths of SPEC §8 that this release serves are among them.
    for p in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/api-keys",
        "/api/v1/me/api-keys/{id}",
        "/api/v1/orgs",
        "/api/v1/orgs/{org}",
        "/api/v1/orgs/{org}/restore",
        "/api/v1/orgs/{org}/transfer",
        "/api/v1/orgs/{org}/members",
        "/api/v1/orgs/{org}/members/{user_id}",
        "/api/v1/orgs/{org}/workspaces",
        "/api/v1/orgs/{org}/audit",
        "/api/v1/check",
        "/api/v1/admin/users",
        "/api/v1/admin/orgs",
        "/api/v1/admin/audit",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
}

/// X-Forwarded-For counts only from trusted proxies, for the audit trail and limits.
async fn client_address_behind_trusted_proxies(b: Backend) {
    use crate::harness::{s, spawn_with};
    let Some(app) = spawn_with(b, |s| s.trusted_proxies = Some("127.0.0.0/8".into())).await else {
        return;
    };
    let a = app.signup("a@example.com", "A").await;
    let send = |xff: &'static str| {
        app.client
            .patch(format!("{}/api/v1/orgs/{}", app.base, a.org_id))
            .bearer_auth(&a.token)
            .header("x-forwarded-for", xff)
            .json(&serde_json::json!({"description": xff}))
            .send()
    };
    assert_eq!(send("6.6.6.6, 203.0.113.7").await.unwrap().status(), 200);
    let (_, audit) = app
        .get(
            &format!("/api/v1/orgs/{}/audit?action=org.update", a.org_id),
            &a.token,
        )
        .await;
    assert_eq!(audit["items"][0]["client_addr"], "203.0.113.7");
    // Without trust the header is ignored.
    let Some(plain) = spawn(b).await else { return };
    let p = plain.signup("p@example.com", "P").await;
    let res = plain
        .client
        .patch(format!("{}/api/v1/orgs/{}", plain.base, p.org_id))
        .bearer_auth(&p.token)
        .header("x-forwarded-for", "203.0.113.7")
        .json(&serde_json::json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, audit) = plain
        .get(
            &format!("/api/v1/orgs/{}/audit?action=org.update", p.org_id),
            &p.token,
        )
        .await;
    assert_eq!(s(&audit["items"][0]["client_addr"]), "127.0.0.1");
}
