//! Organization lifecycle.

use serde_json::json;

use crate::harness::{Backend, Test, problem, s, spawn};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(create_read_update),
    story!(delete_restore_and_refusals),
    story!(transfer_ownership),
    story!(audit_trail),
    story!(admins_create_orgs_for_others),
    story!(a_suspended_org_is_frozen_until_reactivated),
    story!(deleted_orgs_are_purged_after_the_restore_window),
];

/// SPEC §5: an org deleted more than 30 days ago is deleted for good with its members,
/// workspaces, invitations, keys and assistants; its audit trail stays, with an
/// `org.purge` event. Two nodes sweeping at once purge (and record) each org once.
async fn deleted_orgs_are_purged_after_the_restore_window(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("purge-owner@example.com", "Owner").await;
    let member = app.signup("purge-member@example.com", "Member").await;
    let (st, doomed) = app
        .post("/api/v1/orgs", &owner.token, json!({"name": "Doomed Main"}))
        .await;
    assert_eq!(st, 201, "{doomed}");
    let (doomed_slug, doomed_id) = (s(&doomed["slug"]), s(&doomed["id"]));
    app.add_to_org(&doomed_slug, &member.id, "editor").await;
    let org = format!("/api/v1/orgs/{doomed_slug}");
    assert_eq!(
        app.post(
            &format!("{org}/workspaces"),
            &owner.token,
            json!({"name": "W"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        app.post(
            &format!("{org}/assistants"),
            &owner.token,
            json!({"name": "A"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        app.post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "later@example.com"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        app.post(
            &format!("{org}/api-keys"),
            &owner.token,
            json!({"name": "k"})
        )
        .await
        .0,
        201
    );
    assert_eq!(app.delete(&org, &owner.token).await.0, 204);

    let node = app.restart_services(|_| {}).await;
    let purge = |dry| {
        let svc = node.services.clone();
        let op = &node.operator;
        async move { svc.system().purge_deleted(op, dry).await.unwrap() }
    };
    app.clock.advance_seconds(29 * 86_400);
    assert!(
        purge(false).await.orgs.is_empty(),
        "still restorable on day 29"
    );
    app.clock.advance_seconds(2 * 86_400);
    // Sessions last 14 days: sign in again.
    let admin = app.admin_token().await;
    let (_, login) = app.login("purge-member@example.com", "password-123").await;
    let member_token = s(&login["token"]);
    let (_, login) = app.login("purge-owner@example.com", "password-123").await;
    let owner_token = s(&login["token"]);
    let dry = purge(true).await;
    assert_eq!(
        dry.orgs.iter().map(|o| o.slug.as_str()).collect::<Vec<_>>(),
        [doomed_slug.as_str()]
    );
    let (_, all) = app
        .get("/api/v1/admin/orgs?include_deleted=true", &admin)
        .await;
    assert!(
        all.to_string().contains(&doomed_slug),
        "a dry run changes nothing"
    );

    let done = purge(false).await;
    assert_eq!(done.orgs.len(), 1);
    let (_, all) = app
        .get("/api/v1/admin/orgs?include_deleted=true", &admin)
        .await;
    assert!(!all.to_string().contains(&doomed_slug), "{all}");
    problem(
        &app.post(&format!("{org}/restore"), &owner_token, json!({}))
            .await,
        404,
        "org_not_found",
    );
    let (_, me) = app.get("/api/v1/me", &member_token).await;
    assert!(!me.to_string().contains(&doomed_id), "{me}");
    let (_, audit) = app
        .get(
            &format!("/api/v1/admin/audit?org={}&action=org.purge", doomed_id),
            &admin,
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    let (_, earlier) = app
        .get(
            &format!("/api/v1/admin/audit?org={}&action=org.delete", doomed_id),
            &admin,
        )
        .await;
    assert_eq!(
        earlier["items"].as_array().unwrap().len(),
        1,
        "the trail stays: {earlier}"
    );
    assert!(purge(false).await.orgs.is_empty());

    // Two nodes at once: each org purged and recorded once.
    let mut slugs = Vec::new();
    for i in 0..4 {
        let (st, o) = app
            .post(
                "/api/v1/orgs",
                &owner_token,
                json!({"name": format!("Doomed {i}")}),
            )
            .await;
        assert_eq!(st, 201, "{o}");
        assert_eq!(
            app.delete(&format!("/api/v1/orgs/{}", s(&o["slug"])), &owner_token)
                .await
                .0,
            204
        );
        slugs.push(s(&o["id"]));
    }
    app.clock.advance_seconds(31 * 86_400);
    let other = app.restart_services(|_| {}).await;
    let (sys_one, sys_two) = (node.services.system(), other.services.system());
    let (one, two) = tokio::join!(
        sys_one.purge_deleted(&node.operator, false),
        sys_two.purge_deleted(&other.operator, false),
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.orgs.len() + two.orgs.len(), 4, "{one:?} {two:?}");
    let admin = app.admin_token().await;
    for id in &slugs {
        let (_, audit) = app
            .get(
                &format!("/api/v1/admin/audit?org={id}&action=org.purge"),
                &admin,
            )
            .await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    }
}

/// A system admin suspends an org: its members and keys are refused with 403
/// `org_suspended`, permission checks answer no, nobody joins; the system admin still
/// sees it; reactivating restores everything. The system org cannot be suspended.
async fn a_suspended_org_is_frozen_until_reactivated(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin = app.admin_token().await;
    let owner = app.signup("frozen-owner@example.com", "Owner").await;
    let member = app.signup("frozen-member@example.com", "Member").await;
    app.add_to_org(&owner.org_slug, &member.id, "editor").await;
    let org = format!("/api/v1/orgs/{}", owner.org_slug);
    let (st, key) = app
        .post(
            &format!("{org}/api-keys"),
            &owner.token,
            json!({"name": "k", "scopes": ["check"]}),
        )
        .await;
    assert_eq!(st, 201, "{key}");
    let key = s(&key["token"]);
    let (st, inv) = app
        .post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "frozen-guest@example.com"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");

    // Assistants across the two orgs: one of the member's own org shared into the
    // owner's org, and one of the owner's org shared into the member's. A viewer of the
    // owner's org reaches the first only through it.
    let reader = app.signup("frozen-reader@example.com", "Reader").await;
    app.add_to_org(&owner.org_slug, &reader.id, "viewer").await;
    app.add_to_org(&member.org_slug, &owner.id, "editor").await;
    let (st, theirs) = app
        .post(
            &format!("/api/v1/orgs/{}/assistants", member.org_slug),
            &member.token,
            json!({"name": "Theirs"}),
        )
        .await;
    assert_eq!(st, 201, "{theirs}");
    let theirs = s(&theirs["id"]);
    let share = |id: &str, org: &str| format!("/api/v1/assistants/{id}/organizations/{org}");
    assert_eq!(
        app.post(&share(&theirs, &owner.org_slug), &member.token, json!({}))
            .await
            .0,
        200
    );
    let (st, ours) = app
        .post(
            &format!("{org}/assistants"),
            &owner.token,
            json!({"name": "Ours"}),
        )
        .await;
    assert_eq!(st, 201, "{ours}");
    let ours = s(&ours["id"]);
    assert_eq!(
        app.post(&share(&ours, &member.org_slug), &owner.token, json!({}))
            .await
            .0,
        200
    );

    let suspend = format!("/api/v1/admin/orgs/{}/suspend", owner.org_slug);
    problem(
        &app.post(&suspend, &owner.token, json!({})).await,
        403,
        "system_admin_required",
    );
    let (st, o) = app.post(&suspend, &admin, json!({})).await;
    assert_eq!(st, 200, "{o}");
    assert_eq!(o["status"], "suspended");
    // Twice is once: no second event.
    assert_eq!(app.post(&suspend, &admin, json!({})).await.0, 200);

    for who in [&owner.token, &member.token, &key] {
        problem(&app.get(&org, who).await, 403, "org_suspended");
        problem(
            &app.get(&format!("{org}/members"), who).await,
            403,
            "org_suspended",
        );
    }
    problem(
        &app.post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "x@example.com"}),
        )
        .await,
        403,
        "org_suspended",
    );
    // Through the suspended org nothing is seen: the reader (who reaches "Theirs" only
    // through it) no longer sees it, its key is refused; its own assistant is gone from
    // the lists of the orgs it was shared with, and refused by id.
    let theirs_path = format!("/api/v1/assistants/{theirs}");
    problem(
        &app.get(&theirs_path, &reader.token).await,
        404,
        "assistant_not_found",
    );
    problem(
        &app.get(&format!("{theirs_path}/resolved-config"), &key)
            .await,
        403,
        "org_suspended",
    );
    assert_eq!(
        app.get(&theirs_path, &member.token).await.0,
        200,
        "its own home is live"
    );
    let (_, listed) = app
        .get(
            &format!("/api/v1/orgs/{}/assistants", member.org_slug),
            &member.token,
        )
        .await;
    assert!(!listed.to_string().contains(&ours), "{listed}");
    problem(
        &app.get(&format!("/api/v1/assistants/{ours}"), &member.token)
            .await,
        403,
        "org_suspended",
    );
    // The key asks no permission questions either.
    problem(
        &app.post(
            "/api/v1/check",
            &key,
            json!({"user_id": member.id, "permission": "org.read", "org": owner.org_slug}),
        )
        .await,
        403,
        "org_suspended",
    );
    // Members still see that they belong to it, and in what state.
    let (_, mine) = app.get("/api/v1/orgs", &member.token).await;
    let listed: Vec<_> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["slug"] == json!(owner.org_slug))
        .map(|o| s(&o["status"]))
        .collect();
    assert_eq!(listed, ["suspended"], "{mine}");
    // Platforms are told no.
    let ask = json!({"user_id": member.id, "permission": "org.read", "org": owner.org_slug});
    let (st, answer) = app.post("/api/v1/check", &admin, ask.clone()).await;
    assert_eq!(st, 200, "{answer}");
    assert_eq!(answer["allowed"], false, "{answer}");
    // Nobody joins: the invitation cannot be accepted.
    let guest = app.signup("frozen-guest@example.com", "Guest").await;
    let token = app
        .mailed_token("frozen-guest@example.com", "invitation")
        .await
        .expect("the invitation's mail");
    let got = app
        .post(
            "/api/v1/invitations/accept",
            &guest.token,
            json!({"token": token}),
        )
        .await;
    problem(&got, 409, "org_suspended");
    // A system admin still reaches it.
    assert_eq!(app.get(&org, &admin).await.0, 200);
    // The system org is never suspended.
    problem(
        &app.post("/api/v1/admin/orgs/system/suspend", &admin, json!({}))
            .await,
        409,
        "system_org",
    );
    problem(
        &app.post("/api/v1/admin/orgs/no-such-org/suspend", &admin, json!({}))
            .await,
        404,
        "org_not_found",
    );

    let (st, o) = app
        .post(
            &format!("/api/v1/admin/orgs/{}/reactivate", owner.org_slug),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{o}");
    assert_eq!(o["status"], "active");
    for who in [&owner.token, &member.token, &key] {
        assert_eq!(app.get(&org, who).await.0, 200);
    }
    assert_eq!(app.get(&theirs_path, &reader.token).await.0, 200);
    let (_, listed) = app
        .get(
            &format!("/api/v1/orgs/{}/assistants", member.org_slug),
            &member.token,
        )
        .await;
    assert!(listed.to_string().contains(&ours), "{listed}");
    let (_, answer) = app.post("/api/v1/check", &admin, ask).await;
    assert_eq!(answer["allowed"], true, "{answer}");
    let (_, audit) = app.get(&format!("{org}/audit"), &owner.token).await;
    let actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["action"]))
        .filter(|a| a.starts_with("org.s") || a.starts_with("org.r"))
        .collect();
    assert_eq!(actions, ["org.reactivate", "org.suspend"], "{audit}");
}

async fn create_read_update(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("owner@example.com", "Owner").await;
    let (st, org) = app
        .post("/api/v1/orgs", &a.token, json!({"name": "Aarhus Kommune", "default_framework": "openwebui", "default_language_model": "gpt-4o-mini"}))
        .await;
    assert_eq!(st, 201, "{org}");
    assert_eq!(org["slug"], "aarhus-kommune");
    assert_eq!(org["my_role"], "owner");
    assert_eq!(org["default_framework"], "openwebui");
    assert_eq!(org["public"], false);
    let id = s(&org["id"]);
    // By id and by slug.
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{id}"), &a.token).await.1["slug"],
        "aarhus-kommune"
    );
    assert_eq!(
        app.get("/api/v1/orgs/aarhus-kommune", &a.token).await.1["id"],
        id.as_str()
    );
    // Listed among mine, with the personal org.
    let (_, mine) = app.get("/api/v1/orgs", &a.token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    // Default workspace and project exist.
    let (_, ws) = app
        .get(&format!("/api/v1/orgs/{id}/workspaces"), &a.token)
        .await;
    assert_eq!(ws["items"][0]["name"], "Default");
    assert_eq!(ws["items"][0]["is_default"], true);
    let ws_id = s(&ws["items"][0]["id"]);
    let (_, projects) = app
        .get(
            &format!("/api/v1/orgs/{id}/workspaces/{ws_id}/projects"),
            &a.token,
        )
        .await;
    assert_eq!(projects["items"][0]["is_default"], true);

    // PATCH changes only what is given.
    let (st, patched) = app
        .patch(&format!("/api/v1/orgs/{id}"), &a.token, json!({"name": "Aarhus", "slug": "aarhus", "default_language_model": null, "public": true}))
        .await;
    assert_eq!(st, 200, "{patched}");
    assert_eq!(patched["slug"], "aarhus");
    assert_eq!(patched["name"], "Aarhus");
    assert_eq!(patched["default_language_model"], serde_json::Value::Null);
    assert_eq!(patched["default_framework"], "openwebui");
    assert_eq!(patched["public"], true);
    problem(
        &app.patch(&format!("/api/v1/orgs/{id}"), &a.token, json!({}))
            .await,
        400,
        "empty_patch",
    );
    problem(
        &app.patch(
            &format!("/api/v1/orgs/{id}"),
            &a.token,
            json!({"slug": "Not A Slug"}),
        )
        .await,
        400,
        "invalid_slug",
    );
    problem(
        &app.patch(
            &format!("/api/v1/orgs/{id}"),
            &a.token,
            json!({"slug": "admin"}),
        )
        .await,
        400,
        "reserved_slug",
    );
    problem(
        &app.patch(
            &format!("/api/v1/orgs/{id}"),
            &a.token,
            json!({"slug": a.org_slug}),
        )
        .await,
        409,
        "slug_taken",
    );
    problem(
        &app.patch(&format!("/api/v1/orgs/{id}"), &a.token, json!({"name": ""}))
            .await,
        400,
        "invalid_name",
    );
    problem(
        &app.patch(
            &format!("/api/v1/orgs/{id}"),
            &a.token,
            json!({"default_framework": "open webui"}),
        )
        .await,
        400,
        "invalid_label",
    );
    // Explicit slugs on create.
    problem(
        &app.post(
            "/api/v1/orgs",
            &a.token,
            json!({"name": "X", "slug": "aarhus"}),
        )
        .await,
        409,
        "slug_taken",
    );
    problem(
        &app.post(
            "/api/v1/orgs",
            &a.token,
            json!({"name": "X", "slug": "system"}),
        )
        .await,
        400,
        "reserved_slug",
    );
    let (st, named) = app
        .post(
            "/api/v1/orgs",
            &a.token,
            json!({"name": "Y", "slug": "my-slug"}),
        )
        .await;
    assert_eq!(st, 201);
    assert_eq!(named["slug"], "my-slug");
    // The old slug no longer resolves.
    problem(
        &app.get("/api/v1/orgs/aarhus-kommune", &a.token).await,
        404,
        "org_not_found",
    );
}

async fn delete_restore_and_refusals(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("owner@example.com", "Owner").await;
    // The only org a user owns cannot be deleted.
    problem(
        &app.delete(&format!("/api/v1/orgs/{}", a.org_id), &a.token)
            .await,
        409,
        "last_owned_org",
    );
    let (_, second) = app
        .post("/api/v1/orgs", &a.token, json!({"name": "Second"}))
        .await;
    let second_id = s(&second["id"]);
    assert_eq!(
        app.delete(&format!("/api/v1/orgs/{second_id}"), &a.token)
            .await
            .0,
        204
    );
    problem(
        &app.get(&format!("/api/v1/orgs/{second_id}"), &a.token)
            .await,
        404,
        "org_not_found",
    );
    let (_, mine) = app.get("/api/v1/orgs", &a.token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // Now the personal org is the last one again.
    problem(
        &app.delete(&format!("/api/v1/orgs/{}", a.org_id), &a.token)
            .await,
        409,
        "last_owned_org",
    );
    // Restore within the window.
    let (st, restored) = app
        .post(
            &format!("/api/v1/orgs/{second_id}/restore"),
            &a.token,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{restored}");
    assert_eq!(restored["deleted_at"], serde_json::Value::Null);
    problem(
        &app.post(
            &format!("/api/v1/orgs/{second_id}/restore"),
            &a.token,
            json!({}),
        )
        .await,
        409,
        "not_deleted",
    );
    // ... but not after 30 days.
    assert_eq!(
        app.delete(&format!("/api/v1/orgs/{second_id}"), &a.token)
            .await
            .0,
        204
    );
    app.clock.advance_seconds(31 * 86_400);
    let a_token = s(&app.login("owner@example.com", "password-123").await.1["token"]);
    problem(
        &app.post(
            &format!("/api/v1/orgs/{second_id}/restore"),
            &a_token,
            json!({}),
        )
        .await,
        409,
        "restore_window_passed",
    );
    // The system org cannot be deleted, even by a system admin.
    let admin = app.admin_token().await;
    let (_, sys) = app.get("/api/v1/orgs/system", &admin).await;
    assert_eq!(sys["is_system"], true);
    problem(
        &app.delete("/api/v1/orgs/system", &admin).await,
        409,
        "system_org_protected",
    );
}

async fn transfer_ownership(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("a@example.com", "A").await;
    let bob = app.signup("b@example.com", "B").await;
    let url = format!("/api/v1/orgs/{}/transfer", a.org_id);
    // Not a member: refused.
    problem(
        &app.post(&url, &a.token, json!({"new_owner_id": bob.id}))
            .await,
        409,
        "not_an_active_member",
    );
    app.add_to_org(&a.org_id, &bob.id, "editor").await;
    // Only the owner transfers.
    problem(
        &app.post(&url, &bob.token, json!({"new_owner_id": bob.id}))
            .await,
        403,
        "forbidden",
    );
    let (st, org) = app
        .post(&url, &a.token, json!({"new_owner_id": bob.id}))
        .await;
    assert_eq!(st, 200, "{org}");
    assert_eq!(org["owner_id"], bob.id.as_str());
    let (_, members) = app
        .get(&format!("/api/v1/orgs/{}/members", a.org_id), &bob.token)
        .await;
    let role_of = |id: &str| {
        members["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == id)
            .map(|m| m["role"].clone())
            .unwrap()
    };
    assert_eq!(role_of(&bob.id), "owner");
    assert_eq!(role_of(&a.id), "admin");
    // The old owner can no longer rename; the new one can.
    problem(
        &app.patch(
            &format!("/api/v1/orgs/{}", a.org_id),
            &a.token,
            json!({"name": "Mine"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/orgs/{}", a.org_id),
            &bob.token,
            json!({"name": "Bob's"})
        )
        .await
        .0,
        200
    );
    // An admin may still change the description.
    assert_eq!(
        app.patch(
            &format!("/api/v1/orgs/{}", a.org_id),
            &a.token,
            json!({"description": "ok"})
        )
        .await
        .0,
        200
    );
    problem(
        &app.post(&url, &bob.token, json!({"new_owner_id": "not-a-uuid"}))
            .await,
        400,
        "invalid_body",
    );
}

async fn audit_trail(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("a@example.com", "A").await;
    let org = format!("/api/v1/orgs/{}", a.org_id);
    app.patch(&org, &a.token, json!({"name": "Renamed"})).await;
    app.post(
        &format!("{org}/workspaces"),
        &a.token,
        json!({"name": "Research"}),
    )
    .await;
    let (st, events) = app.get(&format!("{org}/audit"), &a.token).await;
    assert_eq!(st, 200, "{events}");
    let actions: Vec<String> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["action"]))
        .collect();
    assert_eq!(
        actions,
        ["workspace.create", "org.update", "org.create"],
        "newest first"
    );
    assert_eq!(events["items"][1]["details"]["after"]["name"], "Renamed");
    assert_eq!(events["items"][1]["actor_user_id"], a.id.as_str());
    assert_eq!(events["items"][1]["client_addr"], "127.0.0.1");
    assert!(events["items"][1]["request_id"].is_string());
    // Filter and page.
    let (_, only) = app
        .get(&format!("{org}/audit?action=org.update"), &a.token)
        .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    let (_, first) = app.get(&format!("{org}/audit?limit=2"), &a.token).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = s(&first["next_cursor"]);
    let (_, rest) = app
        .get(&format!("{org}/audit?limit=2&cursor={cursor}"), &a.token)
        .await;
    assert_eq!(rest["items"][0]["action"], "org.create");
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    problem(
        &app.get(&format!("{org}/audit?action=DROP TABLE"), &a.token)
            .await,
        400,
        "invalid_action",
    );
    // System admins see everything; others may not.
    let admin = app.admin_token().await;
    let (_, all) = app
        .get("/api/v1/admin/audit?action=user.signup", &admin)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let (_, by_org) = app
        .get(&format!("/api/v1/admin/audit?org={}", a.org_id), &admin)
        .await;
    assert_eq!(by_org["items"].as_array().unwrap().len(), 3);
    problem(
        &app.get("/api/v1/admin/audit", &a.token).await,
        403,
        "system_admin_required",
    );
}

async fn admins_create_orgs_for_others(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let u = app.signup("u@example.com", "U").await;
    let admin = app.admin_token().await;
    let (st, org) = app
        .post("/api/v1/admin/orgs", &admin, json!({"name": "Odense Kommune", "owner_email": "U@example.com", "default_framework": "openwebui"}))
        .await;
    assert_eq!(st, 201, "{org}");
    assert_eq!(org["owner_id"], u.id.as_str());
    let (_, got) = app.get("/api/v1/orgs/odense-kommune", &u.token).await;
    assert_eq!(got["my_role"], "owner");
    problem(
        &app.post(
            "/api/v1/admin/orgs",
            &admin,
            json!({"name": "X", "owner_email": "ghost@example.com"}),
        )
        .await,
        404,
        "user_not_found",
    );
    problem(
        &app.post(
            "/api/v1/admin/orgs",
            &u.token,
            json!({"name": "X", "owner_email": "u@example.com"}),
        )
        .await,
        403,
        "system_admin_required",
    );
    let (_, all) = app.get("/api/v1/admin/orgs", &admin).await;
    let slugs: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| s(&o["slug"]))
        .collect();
    assert!(
        slugs.contains(&"system".to_string()) && slugs.contains(&"odense-kommune".to_string()),
        "{slugs:?}"
    );
    // Searching names and slugs, any case; users by e-mail or name.
    let (_, found) = app.get("/api/v1/admin/orgs?q=ODENSE", &admin).await;
    let found: Vec<String> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| s(&o["slug"]))
        .collect();
    assert_eq!(found, ["odense-kommune"]);
    let (_, found) = app.get("/api/v1/admin/orgs?q=kommune%20x", &admin).await;
    assert!(found["items"].as_array().unwrap().is_empty(), "{found}");
    let (_, users) = app.get("/api/v1/admin/users?q=U%40EXAMPLE", &admin).await;
    let users: Vec<String> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| s(&u["email"]))
        .collect();
    assert_eq!(users, ["u@example.com"]);
    // Deleted orgs only with include_deleted.
    assert_eq!(
        app.delete("/api/v1/orgs/odense-kommune", &admin).await.0,
        204
    );
    let (_, live) = app.get("/api/v1/admin/orgs", &admin).await;
    assert!(!live.to_string().contains("odense-kommune"));
    let (_, everything) = app
        .get("/api/v1/admin/orgs?include_deleted=true", &admin)
        .await;
    assert!(everything.to_string().contains("odense-kommune"));
}
