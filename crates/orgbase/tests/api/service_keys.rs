//! Organizations' service keys (SPEC §2): a key acts as a service account of its org
//! with a role and scopes, is stored hashed, expires, records its last use, and never
//! reaches another org. The isolation matrix calls every route with two of them; these
//! stories check the rest.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Backend, Test, problem, s, spawn};
use crate::story;

pub const TESTS: &[Test] = &[
    story!(service_keys_act_in_their_org_only),
    story!(service_key_grants_are_bounded),
    story!(a_deleted_orgs_key_reaches_nothing),
];

/// Once its org is deleted, a key reaches nothing, `POST /check` included.
async fn a_deleted_orgs_key_reaches_nothing(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("skd-owner@example.com", "Owner").await;
    let (st, org) = app
        .post("/api/v1/orgs", &owner.token, json!({"name": "Doomed"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{org}");
    let id = s(&org["id"]);
    let (st, key) = app
        .post(
            &format!("/api/v1/orgs/{id}/api-keys"),
            &owner.token,
            json!({"name": "k", "scopes": ["check"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    let token = s(&key["token"]);
    let ask = json!({"user_id": owner.id, "permission": "org.read", "org": id});
    assert_eq!(
        app.post("/api/v1/check", &token, ask.clone()).await.0,
        StatusCode::OK
    );
    let (st, body) = app
        .delete(&format!("/api/v1/orgs/{id}"), &owner.token)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
    problem(
        &app.post("/api/v1/check", &token, ask).await,
        404,
        "org_not_found",
    );
    problem(
        &app.get(&format!("/api/v1/orgs/{id}"), &token).await,
        404,
        "org_not_found",
    );
}

async fn service_keys_act_in_their_org_only(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("sk-owner@example.com", "Owner").await;
    let other = app.signup("sk-other@example.com", "Other").await;
    let member = app.signup("sk-member@example.com", "Member").await;
    app.add_to_org(&owner.org_id, &member.id, "editor").await;
    let keys = format!("/api/v1/orgs/{}/api-keys", owner.org_id);

    let (st, made) = app
        .post(
            &keys,
            &owner.token,
            json!({"name": "platform", "role": "admin", "scopes": ["check"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    let token = s(&made["token"]);
    assert!(token.starts_with("obo_"), "{made}");
    assert!(token.starts_with(&s(&made["prefix"])), "{made}");
    assert_eq!(made["role"], "admin");
    assert_eq!(made["scopes"], json!(["check"]));
    assert_eq!(made["created_by"], json!(owner.id));

    // Listed without the token; only its hash is stored.
    let (st, list) = app.get(&keys, &owner.token).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&token));
    let stored: String = match b {
        Backend::Sqlite => {
            use sqlx::Row;
            sqlx::query("SELECT token_hash FROM org_api_keys")
                .fetch_one(&mut app.raw_sqlite().await)
                .await
                .unwrap()
                .get(0)
        }
        Backend::Postgres => {
            use sqlx::Row;
            sqlx::query("SELECT token_hash FROM org_api_keys")
                .fetch_one(&mut app.raw_postgres().await)
                .await
                .unwrap()
                .get(0)
        }
    };
    assert_ne!(stored, token);
    assert!(!stored.contains(&token[4..]));

    // It acts in its org, by id and by slug, with its role.
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let (st, got) = app.get(&org, &token).await;
    assert_eq!(st, StatusCode::OK, "{got}");
    let by_slug = format!("/api/v1/orgs/{}", s(&got["slug"]));
    assert_eq!(app.get(&by_slug, &token).await.0, StatusCode::OK);
    let (st, ws) = app
        .post(
            &format!("{org}/workspaces"),
            &token,
            json!({"name": "Made by a key"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ws}");
    // The audit trail names the key, not a person.
    let (_, audit) = app
        .get(
            &format!("{org}/audit?action=workspace.create"),
            &owner.token,
        )
        .await;
    let event = &audit["items"][0];
    assert_eq!(event["actor_api_key_id"], made["id"], "{audit}");
    assert_eq!(event["actor_user_id"], json!(null), "{audit}");
    // Its role is at most admin: owner-only actions are refused.
    problem(
        &app.patch(&org, &token, json!({"name": "Renamed by a key"}))
            .await,
        403,
        "forbidden",
    );
    // Without `secrets:read`, an admin key does not read secrets (checked where secrets
    // are read: resolved configurations).

    // Another org does not exist for it.
    let theirs = format!("/api/v1/orgs/{}", other.org_id);
    problem(&app.get(&theirs, &token).await, 404, "org_not_found");
    problem(
        &app.get(&format!("{theirs}/members"), &token).await,
        404,
        "org_not_found",
    );
    // Nor is it a person.
    problem(
        &app.get("/api/v1/me", &token).await,
        403,
        "service_key_not_allowed",
    );
    problem(
        &app.post("/api/v1/orgs", &token, json!({"name": "Key Org"}))
            .await,
        403,
        "service_key_not_allowed",
    );
    problem(
        &app.post(&keys, &token, json!({"name": "child", "role": "admin"}))
            .await,
        403,
        "service_key_not_allowed",
    );

    // `check`: about its own org only.
    let ask =
        |org: &str| json!({"user_id": member.id, "permission": "assistants.create", "org": org});
    let (st, answer) = app.post("/api/v1/check", &token, ask(&owner.org_id)).await;
    assert_eq!(st, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"allowed": true, "role": "editor"}));
    problem(
        &app.post("/api/v1/check", &token, ask(&other.org_id)).await,
        404,
        "org_not_found",
    );
    let (_, plain) = app
        .post(
            &keys,
            &owner.token,
            json!({"name": "no check", "role": "viewer"}),
        )
        .await;
    problem(
        &app.post("/api/v1/check", &s(&plain["token"]), ask(&owner.org_id))
            .await,
        403,
        "scope_required",
    );
    // A viewer key reads but does not manage.
    problem(
        &app.post(
            &format!("{org}/workspaces"),
            &s(&plain["token"]),
            json!({"name": "No"}),
        )
        .await,
        403,
        "forbidden",
    );

    // Its last use is recorded (in the background, so wait for it).
    let mut used = false;
    for _ in 0..50 {
        let (_, list) = app.get(&keys, &owner.token).await;
        let mine = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == made["id"])
            .cloned()
            .unwrap();
        if !mine["last_used_at"].is_null() {
            used = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used, "last_used_at was never recorded");

    // Expiry: past it, the key is refused.
    app.clock.advance_seconds(31 * 86_400);
    problem(&app.get(&org, &token).await, 401, "unauthenticated");
    // (The owner's session expired too.)
    let (st, login) = app.login(&owner.email, "password-123").await;
    assert_eq!(st, StatusCode::OK, "{login}");
    let owner_token = s(&login["token"]);
    // Revocation takes effect at once.
    let (st, fresh) = app
        .post(
            &keys,
            &owner_token,
            json!({"name": "fresh", "role": "viewer"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{fresh}");
    let fresh_token = s(&fresh["token"]);
    assert_eq!(app.get(&org, &fresh_token).await.0, StatusCode::OK);
    let (st, body) = app
        .delete(&format!("{keys}/{}", s(&fresh["id"])), &owner_token)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
    problem(&app.get(&org, &fresh_token).await, 401, "unauthenticated");
    problem(
        &app.delete(&format!("{keys}/{}", s(&fresh["id"])), &owner_token)
            .await,
        404,
        "api_key_not_found",
    );
    // Another org's admin cannot revoke it (its org does not exist for them).
    let (_, login) = app.login(&other.email, "password-123").await;
    problem(
        &app.delete(&format!("{keys}/{}", s(&made["id"])), &s(&login["token"]))
            .await,
        404,
        "org_not_found",
    );
}

async fn service_key_grants_are_bounded(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("skb-owner@example.com", "Owner").await;
    let admin = app.signup("skb-admin@example.com", "Admin").await;
    let editor = app.signup("skb-editor@example.com", "Editor").await;
    app.add_to_org(&owner.org_id, &admin.id, "admin").await;
    app.add_to_org(&owner.org_id, &editor.id, "editor").await;
    let keys = format!("/api/v1/orgs/{}/api-keys", owner.org_id);
    let key = |role: &str, scopes: serde_json::Value| json!({"name": "k", "role": role, "scopes": scopes});

    problem(
        &app.post(&keys, &editor.token, key("viewer", json!([])))
            .await,
        403,
        "forbidden",
    );
    problem(&app.get(&keys, &editor.token).await, 403, "forbidden");
    problem(
        &app.post(&keys, &admin.token, key("owner", json!([]))).await,
        400,
        "invalid_role",
    );
    problem(
        &app.post(&keys, &admin.token, key("viewer", json!(["secrets:read"])))
            .await,
        400,
        "invalid_scope",
    );
    problem(
        &app.post(&keys, &admin.token, key("admin", json!(["everything"])))
            .await,
        400,
        "invalid_scope",
    );
    problem(
        &app.post(
            &keys,
            &admin.token,
            json!({"name": "k", "expires_in_days": 0}),
        )
        .await,
        400,
        "invalid_expiry",
    );
    problem(
        &app.post(&keys, &admin.token, json!({"name": ""})).await,
        400,
        "invalid_name",
    );
    let (st, made) = app
        .post(
            &keys,
            &admin.token,
            key("admin", json!(["secrets:read", "check", "check"])),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    assert_eq!(made["scopes"], json!(["secrets:read", "check"]));
    // Default role: viewer.
    let (st, made) = app.post(&keys, &admin.token, json!({"name": "d"})).await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    assert_eq!(made["role"], "viewer");
}
