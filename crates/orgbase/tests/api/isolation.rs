//! 404 across tenants, 403 for too-low roles.

use serde_json::json;

use crate::harness::{Backend, Test, problem, spawn};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(strangers_get_404_members_get_403),
    story!(deleted_orgs_disappear_for_members),
    story!(one_query_path_matches_two_step_path),
];

async fn strangers_get_404_members_get_403(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let viewer = app.signup("viewer@example.com", "Viewer").await;
    let editor = app.signup("editor@example.com", "Editor").await;
    let admin_member = app.signup("admin@example.com", "Admin").await;
    let stranger = app.signup("stranger@example.com", "Stranger").await;
    app.add_to_org(&owner.org_id, &viewer.id, "viewer").await;
    app.add_to_org(&owner.org_id, &editor.id, "editor").await;
    app.add_to_org(&owner.org_id, &admin_member.id, "admin")
        .await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let by_slug = format!("/api/v1/orgs/{}", owner.org_slug);

    // A stranger learns nothing: every path is 404, by id or slug, whatever the method.
    for path in [
        org.clone(),
        by_slug.clone(),
        format!("{org}/members"),
        format!("{org}/workspaces"),
        format!("{org}/audit"),
    ] {
        problem(&app.get(&path, &stranger.token).await, 404, "org_not_found");
    }
    problem(
        &app.patch(&org, &stranger.token, json!({"name": "pwned"}))
            .await,
        404,
        "org_not_found",
    );
    problem(
        &app.delete(&org, &stranger.token).await,
        404,
        "org_not_found",
    );
    problem(
        &app.post(
            &format!("{org}/transfer"),
            &stranger.token,
            json!({"new_owner_id": stranger.id}),
        )
        .await,
        404,
        "org_not_found",
    );
    problem(
        &app.post(
            &format!("{org}/workspaces"),
            &stranger.token,
            json!({"name": "x"}),
        )
        .await,
        404,
        "org_not_found",
    );
    // ... and the answer is the same as for an org that does not exist.
    problem(
        &app.get("/api/v1/orgs/no-such-org", &stranger.token).await,
        404,
        "org_not_found",
    );
    problem(
        &app.get(
            "/api/v1/orgs/01900000-0000-7000-8000-000000000000",
            &stranger.token,
        )
        .await,
        404,
        "org_not_found",
    );

    // Members read; too-low roles get 403.
    for m in [&viewer, &editor, &admin_member] {
        assert_eq!(app.get(&org, &m.token).await.0, 200);
        assert_eq!(app.get(&format!("{org}/members"), &m.token).await.0, 200);
        assert_eq!(app.get(&format!("{org}/workspaces"), &m.token).await.0, 200);
    }
    problem(
        &app.patch(&org, &viewer.token, json!({"description": "x"}))
            .await,
        403,
        "forbidden",
    );
    problem(
        &app.patch(&org, &editor.token, json!({"description": "x"}))
            .await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.patch(&org, &admin_member.token, json!({"description": "x"}))
            .await
            .0,
        200
    );
    problem(
        &app.patch(&org, &admin_member.token, json!({"name": "x"}))
            .await,
        403,
        "forbidden",
    );
    problem(
        &app.get(&format!("{org}/audit"), &editor.token).await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.get(&format!("{org}/audit"), &admin_member.token)
            .await
            .0,
        200
    );
    problem(
        &app.delete(&org, &admin_member.token).await,
        403,
        "forbidden",
    );
    problem(
        &app.post(
            &format!("{org}/workspaces"),
            &editor.token,
            json!({"name": "x"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.post(
            &format!("{org}/workspaces"),
            &admin_member.token,
            json!({"name": "x"})
        )
        .await
        .0,
        201
    );
    // Role changes: admins up to admin, never the owner, never above themselves.
    let members = format!("{org}/members");
    problem(
        &app.patch(
            &format!("{members}/{}", editor.id),
            &viewer.token,
            json!({"role": "viewer"}),
        )
        .await,
        403,
        "forbidden",
    );
    let (st, changed) = app
        .patch(
            &format!("{members}/{}", viewer.id),
            &admin_member.token,
            json!({"role": "editor"}),
        )
        .await;
    assert_eq!(st, 200, "{changed}");
    assert_eq!(changed["role"], "editor");
    problem(
        &app.patch(
            &format!("{members}/{}", viewer.id),
            &admin_member.token,
            json!({"role": "owner"}),
        )
        .await,
        400,
        "invalid_role",
    );
    problem(
        &app.patch(
            &format!("{members}/{}", owner.id),
            &admin_member.token,
            json!({"role": "viewer"}),
        )
        .await,
        409,
        "owner_role_fixed",
    );
    problem(
        &app.patch(
            &format!("{members}/{}", viewer.id),
            &admin_member.token,
            json!({"role": "god"}),
        )
        .await,
        400,
        "invalid_role",
    );
    problem(
        &app.patch(
            &format!("{members}/{}", stranger.id),
            &admin_member.token,
            json!({"role": "viewer"}),
        )
        .await,
        404,
        "member_not_found",
    );
    // Removal: never the owner; an admin removes an editor; anyone may leave.
    problem(
        &app.delete(&format!("{members}/{}", owner.id), &admin_member.token)
            .await,
        409,
        "cannot_remove_owner",
    );
    problem(
        &app.delete(&format!("{members}/{}", owner.id), &owner.token)
            .await,
        409,
        "cannot_remove_owner",
    );
    assert_eq!(
        app.delete(&format!("{members}/{}", editor.id), &admin_member.token)
            .await
            .0,
        204
    );
    problem(&app.get(&org, &editor.token).await, 404, "org_not_found");
    assert_eq!(
        app.delete(&format!("{members}/{}", viewer.id), &viewer.token)
            .await
            .0,
        204
    );
    problem(&app.get(&org, &viewer.token).await, 404, "org_not_found");
    // Org admins cannot add members directly (that is what invitations are for).
    problem(
        &app.post(
            &members,
            &admin_member.token,
            json!({"user_id": stranger.id, "role": "viewer"}),
        )
        .await,
        403,
        "use_invitations",
    );
}

async fn deleted_orgs_disappear_for_members(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let member = app.signup("member@example.com", "Member").await;
    let (_, org) = app
        .post("/api/v1/orgs", &owner.token, json!({"name": "Temp"}))
        .await;
    let id = crate::harness::s(&org["id"]);
    app.add_to_org(&id, &member.id, "admin").await;
    assert_eq!(
        app.delete(&format!("/api/v1/orgs/{id}"), &owner.token)
            .await
            .0,
        204
    );
    problem(
        &app.get(&format!("/api/v1/orgs/{id}"), &member.token).await,
        404,
        "org_not_found",
    );
    // An admin is not an owner: restore is refused (403), the owner restores.
    problem(
        &app.post(
            &format!("/api/v1/orgs/{id}/restore"),
            &member.token,
            json!({}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/orgs/{id}/restore"),
            &owner.token,
            json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{id}"), &member.token)
            .await
            .0,
        200
    );
}

/// Org-scoped reads authenticate and authorize in one query for sessions; the answers
/// must be exactly those of the two-step path (used for API keys).
async fn one_query_path_matches_two_step_path(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let stranger = app.signup("stranger@example.com", "Stranger").await;
    let (_, key) = app
        .post("/api/v1/me/api-keys", &stranger.token, json!({"name": "k"}))
        .await;
    let key = crate::harness::s(&key["token"]);
    let (_, own_key) = app
        .post("/api/v1/me/api-keys", &owner.token, json!({"name": "k"}))
        .await;
    let own_key = crate::harness::s(&own_key["token"]);
    for path in [
        format!("/api/v1/orgs/{}", owner.org_id),
        format!("/api/v1/orgs/{}/members", owner.org_slug),
    ] {
        assert_eq!(app.get(&path, &owner.token).await.0, 200, "session");
        assert_eq!(app.get(&path, &own_key).await.0, 200, "api key");
        problem(&app.get(&path, &stranger.token).await, 404, "org_not_found");
        problem(&app.get(&path, &key).await, 404, "org_not_found");
        problem(&app.get(&path, "obs_forged").await, 401, "unauthenticated");
        problem(
            &app.get(&path, &format!("{}0", owner.token)).await,
            401,
            "unauthenticated",
        );
    }
    for token in [&owner.token, &own_key] {
        problem(
            &app.get("/api/v1/orgs/no-such-org", token).await,
            404,
            "org_not_found",
        );
        problem(
            &app.get("/api/v1/orgs/!!", token).await,
            404,
            "org_not_found",
        );
    }
    // A disabled owner stops at once on both paths; an expired session too.
    let admin = app.admin_token().await;
    app.patch(
        &format!("/api/v1/admin/users/{}", owner.id),
        &admin,
        json!({"enabled": false}),
    )
    .await;
    problem(
        &app.get(&format!("/api/v1/orgs/{}", owner.org_id), &own_key)
            .await,
        401,
        "unauthenticated",
    );
    app.patch(
        &format!("/api/v1/admin/users/{}", owner.id),
        &admin,
        json!({"enabled": true}),
    )
    .await;
    let fresh = crate::harness::s(&app.login("owner@example.com", "password-123").await.1["token"]);
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{}", owner.org_id), &fresh)
            .await
            .0,
        200
    );
    app.clock.advance_seconds(15 * 86_400);
    problem(
        &app.get(&format!("/api/v1/orgs/{}", owner.org_id), &fresh)
            .await,
        401,
        "unauthenticated",
    );
}
