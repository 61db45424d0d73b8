//! Assistants (SPEC §2, §3, §6): permissions, the snapshot of the org's defaults with
//! provenance and re-derivation, sharing across orgs, the resolved configuration and
//! its refusal without providers, and the assistant limits under concurrency.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Backend, Test, TestApp, problem, s, spawn};
use crate::story;

pub const TESTS: &[Test] = &[
    story!(assistants_snapshot_org_defaults_and_rederive),
    story!(assistant_permissions_and_bad_input),
    story!(sharing_across_orgs),
    story!(resolved_config_layers_without_fallback),
    story!(assistant_limits_hold_under_races),
];

async fn set_defaults(app: &TestApp, org: &str, token: &str, framework: &str, model: &str) {
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{org}"),
            token,
            json!({"default_framework": framework, "default_language_model": model}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
}

async fn create(app: &TestApp, org: &str, token: &str, body: Value) -> Value {
    let (st, made) = app
        .post(&format!("/api/v1/orgs/{org}/assistants"), token, body)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    made
}

async fn assistants_snapshot_org_defaults_and_rederive(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("as-owner@example.com", "Owner").await;
    let org = owner.org_id.clone();
    set_defaults(&app, &org, &owner.token, "openwebui", "gpt-4o-mini").await;

    let derived = create(&app, &org, &owner.token, json!({"name": "Derived"})).await;
    assert_eq!(derived["framework"], "openwebui");
    assert_eq!(derived["framework_source"], "derived");
    assert_eq!(derived["language_model"], "gpt-4o-mini");
    assert_eq!(derived["language_model_source"], "derived");
    assert_eq!(derived["owner_id"], json!(owner.id));
    let explicit = create(
        &app,
        &org,
        &owner.token,
        json!({"name": "Explicit", "language_model": "ollama/llama3.1",
               "metadata": {"lamb": {"connector": "ollama"}, "system_prompt": "Be brief.", "rag": {"top_k": 3}}}),
    )
    .await;
    assert_eq!(explicit["language_model_source"], "explicit");
    assert_eq!(explicit["framework_source"], "derived");
    assert_eq!(explicit["metadata"]["rag"]["top_k"], 3);

    // New defaults do not change existing assistants.
    set_defaults(&app, &org, &owner.token, "lamb", "gpt-4.1").await;
    let (_, still) = app
        .get(
            &format!("/api/v1/assistants/{}", s(&derived["id"])),
            &owner.token,
        )
        .await;
    assert_eq!(still["framework"], "openwebui");
    assert_eq!(still["language_model"], "gpt-4o-mini");

    // A dry run reports and changes nothing; the run re-applies derived fields only.
    let rederive = format!("/api/v1/orgs/{org}/assistants/rederive");
    let (st, dry) = app.post(&rederive, &owner.token, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{dry}");
    assert_eq!(dry["dry_run"], true);
    let changed = dry["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 2, "{dry}");
    let of_explicit = changed.iter().find(|c| c["id"] == explicit["id"]).unwrap();
    assert_eq!(
        of_explicit["changes"],
        json!([{"field": "framework", "from": "openwebui", "to": "lamb"}])
    );
    let (_, still) = app
        .get(
            &format!("/api/v1/assistants/{}", s(&derived["id"])),
            &owner.token,
        )
        .await;
    assert_eq!(still["framework"], "openwebui");
    let (st, done) = app
        .post(&rederive, &owner.token, json!({"dry_run": false}))
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["changed"].as_array().unwrap().len(), 2);
    let (_, now) = app
        .get(
            &format!("/api/v1/assistants/{}", s(&explicit["id"])),
            &owner.token,
        )
        .await;
    assert_eq!(now["framework"], "lamb");
    assert_eq!(now["language_model"], "ollama/llama3.1");
    let (_, again) = app.post(&rederive, &owner.token, json!({})).await;
    assert_eq!(again["changed"], json!([]));
    assert_eq!(again["unchanged"], 2);
    let (_, audit) = app
        .get(
            &format!("/api/v1/orgs/{org}/audit?action=assistant.rederive"),
            &owner.token,
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // PATCH: a value is explicit; null goes back to the default, derived.
    let one = format!("/api/v1/assistants/{}", s(&explicit["id"]));
    let (st, p) = app
        .patch(
            &one,
            &owner.token,
            json!({"language_model": null, "framework": "custom"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["language_model"], "gpt-4.1");
    assert_eq!(p["language_model_source"], "derived");
    assert_eq!(p["framework"], "custom");
    assert_eq!(p["framework_source"], "explicit");
    assert_eq!(p["organizations"], json!([org]));
}

async fn assistant_permissions_and_bad_input(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("ap-owner@example.com", "Owner").await;
    let admin = app.signup("ap-admin@example.com", "Admin").await;
    let editor = app.signup("ap-editor@example.com", "Editor").await;
    let editor2 = app.signup("ap-editor2@example.com", "Editor Two").await;
    let viewer = app.signup("ap-viewer@example.com", "Viewer").await;
    let outsider = app.signup("ap-outsider@example.com", "Outsider").await;
    let org = owner.org_id.clone();
    for (u, r) in [
        (&admin, "admin"),
        (&editor, "editor"),
        (&editor2, "editor"),
        (&viewer, "viewer"),
    ] {
        app.add_to_org(&org, &u.id, r).await;
    }
    let list = format!("/api/v1/orgs/{org}/assistants");
    problem(
        &app.post(&list, &viewer.token, json!({"name": "No"})).await,
        403,
        "forbidden",
    );
    let mine = create(&app, &org, &editor.token, json!({"name": "Mine"})).await;
    let one = format!("/api/v1/assistants/{}", s(&mine["id"]));
    // Viewers read; another editor cannot change it; its owner and admins can.
    assert_eq!(app.get(&one, &viewer.token).await.0, StatusCode::OK);
    problem(
        &app.patch(&one, &editor2.token, json!({"name": "Theirs"}))
            .await,
        403,
        "forbidden",
    );
    problem(&app.delete(&one, &editor2.token).await, 403, "forbidden");
    assert_eq!(
        app.patch(&one, &editor.token, json!({"name": "Still mine"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.patch(&one, &admin.token, json!({"description": "Admin was here"}))
            .await
            .0,
        StatusCode::OK
    );
    // Outsiders: 404, for the assistant and the org's list.
    problem(
        &app.get(&one, &outsider.token).await,
        404,
        "assistant_not_found",
    );
    problem(&app.get(&list, &outsider.token).await, 404, "org_not_found");
    problem(
        &app.get("/api/v1/assistants/not-an-id", &owner.token).await,
        404,
        "assistant_not_found",
    );
    // Only admins make assistants for someone else, and only for members.
    problem(
        &app.post(
            &list,
            &editor.token,
            json!({"name": "For you", "owner_id": editor2.id}),
        )
        .await,
        403,
        "forbidden",
    );
    let theirs = create(
        &app,
        &org,
        &admin.token,
        json!({"name": "For editor two", "owner_id": editor2.id}),
    )
    .await;
    assert_eq!(theirs["owner_id"], json!(editor2.id));
    problem(
        &app.post(
            &list,
            &admin.token,
            json!({"name": "For a stranger", "owner_id": outsider.id}),
        )
        .await,
        422,
        "owner_not_member",
    );
    // Filters and paging.
    let (_, by_owner) = app
        .get(&format!("{list}?owner={}", editor2.id), &viewer.token)
        .await;
    assert_eq!(by_owner["items"].as_array().unwrap().len(), 1, "{by_owner}");
    let (_, first) = app.get(&format!("{list}?limit=1"), &viewer.token).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = s(&first["next_cursor"]);
    let (_, second) = app
        .get(&format!("{list}?limit=1&cursor={cursor}"), &viewer.token)
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    problem(
        &app.get(&format!("{list}?owner=nope"), &viewer.token).await,
        400,
        "invalid_query",
    );
    // Projects: of this org only.
    let (_, wss) = app
        .get(&format!("/api/v1/orgs/{org}/workspaces"), &owner.token)
        .await;
    let ws = s(&wss["items"][0]["id"]);
    let (_, projects) = app
        .get(
            &format!("/api/v1/orgs/{org}/workspaces/{ws}/projects"),
            &owner.token,
        )
        .await;
    let project = s(&projects["items"][0]["id"]);
    let in_project = create(
        &app,
        &org,
        &editor.token,
        json!({"name": "In project", "project_id": project}),
    )
    .await;
    assert_eq!(in_project["project_id"], json!(project));
    let (_, by_project) = app
        .get(&format!("{list}?project={project}"), &viewer.token)
        .await;
    assert_eq!(by_project["items"].as_array().unwrap().len(), 1);
    let (_, other_wss) = app
        .get(
            &format!("/api/v1/orgs/{}/workspaces", outsider.org_id),
            &outsider.token,
        )
        .await;
    let other_ws = s(&other_wss["items"][0]["id"]);
    let (_, other_projects) = app
        .get(
            &format!(
                "/api/v1/orgs/{}/workspaces/{other_ws}/projects",
                outsider.org_id
            ),
            &outsider.token,
        )
        .await;
    problem(
        &app.post(
            &list,
            &editor.token,
            json!({"name": "X", "project_id": s(&other_projects["items"][0]["id"])}),
        )
        .await,
        404,
        "project_not_found",
    );
    // Bad input: metadata, names, unknown fields, labels.
    problem(
        &app.post(
            &list,
            &editor.token,
            json!({"name": "X", "metadata": [1, 2]}),
        )
        .await,
        422,
        "invalid_metadata",
    );
    problem(
        &app.post(
            &list,
            &editor.token,
            json!({"name": "X", "metadata": {"k": "a\u{0}b"}}),
        )
        .await,
        422,
        "invalid_metadata",
    );
    let big = "x".repeat(17 * 1024);
    problem(
        &app.post(
            &list,
            &editor.token,
            json!({"name": "X", "metadata": {"prompt": big}}),
        )
        .await,
        422,
        "metadata_too_large",
    );
    problem(
        &app.post(&list, &editor.token, json!({"name": ""})).await,
        400,
        "invalid_name",
    );
    problem(
        &app.post(
            &list,
            &editor.token,
            json!({"name": "X", "framework": "has space"}),
        )
        .await,
        400,
        "invalid_label",
    );
    problem(
        &app.post(&list, &editor.token, json!({"name": "X", "color": "red"}))
            .await,
        400,
        "invalid_body",
    );
    problem(
        &app.patch(&one, &editor.token, json!({"metadata": "text"}))
            .await,
        422,
        "invalid_metadata",
    );
    // Deleting: the owner may; then it is gone.
    assert_eq!(
        app.delete(&one, &editor.token).await.0,
        StatusCode::NO_CONTENT
    );
    problem(
        &app.get(&one, &owner.token).await,
        404,
        "assistant_not_found",
    );
}

async fn sharing_across_orgs(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a_owner = app.signup("sh-a@example.com", "A Owner").await;
    let b_owner = app.signup("sh-b@example.com", "B Owner").await;
    let both = app.signup("sh-both@example.com", "Both").await;
    let b_viewer = app.signup("sh-bviewer@example.com", "B Viewer").await;
    let (a, bo) = (a_owner.org_id.clone(), b_owner.org_id.clone());
    app.add_to_org(&a, &both.id, "editor").await;
    app.add_to_org(&bo, &both.id, "editor").await;
    app.add_to_org(&bo, &b_viewer.id, "viewer").await;
    let made = create(&app, &a, &both.token, json!({"name": "Shared tutor"})).await;
    let id = s(&made["id"]);
    let share = format!("/api/v1/assistants/{id}/organizations/{bo}");

    // Not visible in B yet.
    problem(
        &app.get(&format!("/api/v1/assistants/{id}"), &b_viewer.token)
            .await,
        404,
        "assistant_not_found",
    );
    // A's owner is not in B: B does not exist for them.
    problem(
        &app.post(&share, &a_owner.token, json!({})).await,
        404,
        "org_not_found",
    );
    // B's owner cannot see the assistant.
    problem(
        &app.post(&share, &b_owner.token, json!({})).await,
        404,
        "assistant_not_found",
    );
    // The editor of both shares it (twice: no change).
    let (st, shared) = app.post(&share, &both.token, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{shared}");
    assert_eq!(shared["organizations"], json!([a, bo]));
    assert_eq!(
        app.post(&share, &both.token, json!({})).await.0,
        StatusCode::OK
    );
    // B's members read it and list it among B's assistants.
    let (st, seen) = app
        .get(&format!("/api/v1/assistants/{id}"), &b_viewer.token)
        .await;
    assert_eq!(st, StatusCode::OK, "{seen}");
    assert!(
        seen.get("organizations").is_none(),
        "only those who may change it see where it is shared"
    );
    let (_, listed) = app
        .get(&format!("/api/v1/orgs/{bo}/assistants"), &b_viewer.token)
        .await;
    assert_eq!(listed["items"][0]["id"], made["id"]);
    // B's owner sees it but may not change it (it is A's).
    problem(
        &app.patch(
            &format!("/api/v1/assistants/{id}"),
            &b_owner.token,
            json!({"name": "Mine now"}),
        )
        .await,
        403,
        "forbidden",
    );
    // The home org cannot be removed.
    problem(
        &app.delete(
            &format!("/api/v1/assistants/{id}/organizations/{a}"),
            &both.token,
        )
        .await,
        409,
        "home_org_protected",
    );
    // A viewer of B cannot unshare; B's owner (an admin there) can, at once.
    problem(&app.delete(&share, &b_viewer.token).await, 403, "forbidden");
    assert_eq!(
        app.delete(&share, &b_owner.token).await.0,
        StatusCode::NO_CONTENT
    );
    problem(
        &app.get(&format!("/api/v1/assistants/{id}"), &b_viewer.token)
            .await,
        404,
        "assistant_not_found",
    );
    let (_, listed) = app
        .get(&format!("/api/v1/orgs/{bo}/assistants"), &b_viewer.token)
        .await;
    assert_eq!(listed["items"], json!([]));
    // B's owner no longer sees it at all; the sharer is told it is not shared there.
    problem(
        &app.delete(&share, &b_owner.token).await,
        404,
        "assistant_not_found",
    );
    problem(
        &app.delete(&share, &both.token).await,
        404,
        "assistant_not_shared",
    );
    // Sharing off in the home org's configuration: refused.
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{a}/config"),
            &a_owner.token,
            json!({"features": {"sharing_enabled": false}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    problem(
        &app.post(&share, &both.token, json!({})).await,
        403,
        "sharing_disabled",
    );
    // An assistant whose home org is deleted leaves the lists of the orgs it was
    // shared with too.
    let (st, second) = app
        .post(
            "/api/v1/orgs",
            &a_owner.token,
            json!({"name": "Second Home"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{second}");
    let second = s(&second["id"]);
    app.add_to_org(&second, &both.id, "editor").await;
    let doomed = create(&app, &second, &both.token, json!({"name": "Doomed"})).await;
    let (st, body) = app
        .post(
            &format!("/api/v1/assistants/{}/organizations/{bo}", s(&doomed["id"])),
            &both.token,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, listed) = app
        .get(&format!("/api/v1/orgs/{bo}/assistants"), &b_viewer.token)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let (st, body) = app
        .delete(&format!("/api/v1/orgs/{second}"), &a_owner.token)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
    let (_, listed) = app
        .get(&format!("/api/v1/orgs/{bo}/assistants"), &b_viewer.token)
        .await;
    assert_eq!(listed["items"], json!([]), "{listed}");

    // Audit in both orgs.
    let (_, audit) = app
        .get(
            &format!("/api/v1/orgs/{bo}/audit?action=assistant.share"),
            &b_owner.token,
        )
        .await;
    // Two shares into B: the tutor's and the doomed one's.
    assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
}

async fn resolved_config_layers_without_fallback(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let root = app.admin_token().await;
    let owner = app.signup("rc-owner@example.com", "Owner").await;
    let viewer = app.signup("rc-viewer@example.com", "Viewer").await;
    let org = owner.org_id.clone();
    app.add_to_org(&org, &viewer.id, "viewer").await;
    // The server's own providers live in the system org's configuration.
    let (st, body) = app
        .put(
            "/api/v1/orgs/system/config",
            &root,
            json!({"providers": {"anthropic": {"api_key": "sk-server-anthropic-9999", "models": ["claude-3"], "base_url": "https://api.anthropic.com"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let made = create(
        &app,
        &org,
        &owner.token,
        json!({"name": "Tutor", "language_model": "claude-3"}),
    )
    .await;
    let resolved = format!("/api/v1/assistants/{}/resolved-config", s(&made["id"]));
    // No providers of its own, no permission to inherit: refused, never the server's.
    problem(
        &app.get(&resolved, &owner.token).await,
        409,
        "provider_not_configured",
    );

    // The org's own provider.
    let (st, body) = app
        .put(
            &format!("/api/v1/orgs/{org}/config"),
            &owner.token,
            json!({"providers": {"openai": {"api_key": "sk-org-openai-abcd1234", "models": ["gpt-4o-mini"], "default_model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    problem(
        &app.get(&resolved, &owner.token).await,
        409,
        "provider_not_configured",
    );
    let other = create(&app, &org, &owner.token, json!({"name": "Default model"})).await;
    let other_resolved = format!("/api/v1/assistants/{}/resolved-config", s(&other["id"]));
    let (st, r) = app.get(&other_resolved, &owner.token).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["provider"], "openai");
    assert_eq!(r["model"], "gpt-4o-mini");
    assert_eq!(r["model_source"], "provider");
    assert_eq!(r["base_url"], "https://api.openai.com/v1");
    assert_eq!(
        r["api_key"], "sk-org-openai-abcd1234",
        "admins hold secrets.read"
    );
    // A viewer gets the settings, not the key.
    let (st, r) = app.get(&other_resolved, &viewer.token).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(r.get("api_key").is_none(), "{r}");
    assert_eq!(r["has_api_key"], true);
    // Service keys: the key only with secrets:read.
    let keys = format!("/api/v1/orgs/{org}/api-keys");
    let (_, plain) = app
        .post(&keys, &owner.token, json!({"name": "p", "role": "admin"}))
        .await;
    let (_, reader) = app
        .post(
            &keys,
            &owner.token,
            json!({"name": "r", "role": "admin", "scopes": ["secrets:read"]}),
        )
        .await;
    let (_, r) = app.get(&other_resolved, &s(&plain["token"])).await;
    assert!(r.get("api_key").is_none(), "{r}");
    let (st, r) = app.get(&other_resolved, &s(&reader["token"])).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["api_key"], "sk-org-openai-abcd1234");

    // A system admin lets the org inherit: the server's provider fills in.
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{org}/config"),
            &root,
            json!({"inherit_system_providers": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, r) = app.get(&resolved, &owner.token).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["provider"], "anthropic");
    assert_eq!(r["provider_source"], "system");
    assert_eq!(r["model"], "claude-3");
    assert_eq!(r["model_source"], "assistant");
    // The server's own key is not handed to the org (only to system admins).
    assert!(r.get("api_key").is_none(), "{r}");
    assert_eq!(r["has_api_key"], true);
    let (_, r) = app.get(&resolved, &root).await;
    assert_eq!(r["api_key"], "sk-server-anthropic-9999");
    // An org's provider of the same name replaces the server's as a whole: its URL
    // never travels with the server's key.
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{org}/config"),
            &owner.token,
            json!({"providers": {"anthropic": {"base_url": "http://elsewhere.example/v1"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, r) = app.get(&resolved, &root).await;
    assert_eq!(r["provider_source"], "organization", "{r}");
    assert_eq!(r["has_api_key"], false, "{r}");
    assert!(r.get("api_key").is_none(), "{r}");
    // The org's own provider still wins where it has one.
    let (_, r) = app.get(&other_resolved, &owner.token).await;
    assert_eq!(r["provider"], "openai");
    assert_eq!(r["provider_source"], "organization");
}

/// 20 parallel creations against `max_assistants` 10 leave exactly 10; the per-user
/// limit holds the same way; usage shows both.
async fn assistant_limits_hold_under_races(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("al-owner@example.com", "Owner").await;
    let editor = app.signup("al-editor@example.com", "Editor").await;
    let org = owner.org_id.clone();
    app.add_to_org(&org, &editor.id, "editor").await;
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{org}/config"),
            &owner.token,
            json!({"limits": {"max_assistants": 10, "max_assistants_per_user": 3}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let app = Arc::new(app);
    let race = |token: String, n: usize| {
        let app = app.clone();
        let org = org.clone();
        tokio::spawn(async move {
            app.post(
                &format!("/api/v1/orgs/{org}/assistants"),
                &token,
                json!({"name": format!("Race {n}")}),
            )
            .await
        })
    };
    // The editor may own 3.
    let tasks: Vec<_> = (0..8).map(|n| race(editor.token.clone(), n)).collect();
    let mut made = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st.as_u16() {
            201 => made += 1,
            _ => {
                assert_eq!(body["code"], "limit_exceeded", "{body}");
                assert!(
                    s(&body["detail"]).contains("max_assistants_per_user"),
                    "{body}"
                );
            }
        }
    }
    assert_eq!(made, 3);
    // The owner's org-level race: room for 7 more of 10 (the owner may own 3 too, so
    // raise the per-user limit first).
    let (st, body) = app
        .patch(
            &format!("/api/v1/orgs/{org}/config"),
            &owner.token,
            json!({"limits": {"max_assistants_per_user": null}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let tasks: Vec<_> = (0..20)
        .map(|n| race(owner.token.clone(), 100 + n))
        .collect();
    let mut made = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st.as_u16() {
            201 => made += 1,
            _ => {
                assert_eq!(body["code"], "limit_exceeded", "{body}");
                assert!(s(&body["detail"]).contains("max_assistants:"), "{body}");
            }
        }
    }
    assert_eq!(made, 7);
    let (_, usage) = app
        .get(&format!("/api/v1/orgs/{org}/usage"), &owner.token)
        .await;
    assert_eq!(
        usage["assistants"],
        json!({"used": 10, "limit": 10}),
        "{usage}"
    );
    let (_, all) = app
        .get(
            &format!("/api/v1/orgs/{org}/assistants?limit=50"),
            &owner.token,
        )
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 10);
}
