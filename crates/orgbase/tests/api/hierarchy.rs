//! Workspaces, projects and memberships below the org.

use serde_json::json;

use crate::harness::{Backend, Test, problem, s, spawn};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(workspace_and_project_memberships),
    story!(schema_enforces_membership_rules),
    story!(members_are_searched_by_email_or_name),
];

/// `?q=` narrows a member list to those whose e-mail or name contains the text, in
/// any case, with LIKE's wildcards taken literally; paging still works.
async fn members_are_searched_by_email_or_name(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("search-owner@example.com", "Owner").await;
    for (email, name) in [
        ("ada.lovelace@example.com", "Ada Lovelace"),
        ("grace@example.com", "Grace Hopper"),
        ("ada_b@example.com", "Ada Byron"),
    ] {
        let u = app.signup(email, name).await;
        app.add_to_org(&owner.org_id, &u.id, "viewer").await;
    }
    let members = format!("/api/v1/orgs/{}/members", owner.org_id);
    let emails = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| s(&m["email"]))
            .collect()
    };
    let (st, all) = app.get(&members, &owner.token).await;
    assert_eq!(st, 200, "{all}");
    assert_eq!(emails(&all).len(), 4);
    let (_, ada) = app.get(&format!("{members}?q=ADA"), &owner.token).await;
    let mut found = emails(&ada);
    found.sort();
    assert_eq!(
        found,
        ["ada.lovelace@example.com", "ada_b@example.com"],
        "{ada}"
    );
    let (_, hopper) = app.get(&format!("{members}?q=hopper"), &owner.token).await;
    assert_eq!(emails(&hopper), ["grace@example.com"]);
    let (_, underscore) = app.get(&format!("{members}?q=ada_"), &owner.token).await;
    assert_eq!(
        emails(&underscore),
        ["ada_b@example.com"],
        "_ is not a wildcard"
    );
    let (_, none) = app.get(&format!("{members}?q=%25"), &owner.token).await;
    assert!(emails(&none).is_empty(), "% is not a wildcard: {none}");
    let (_, first) = app
        .get(&format!("{members}?q=ada&limit=1"), &owner.token)
        .await;
    assert_eq!(emails(&first).len(), 1);
    let cursor = s(&first["next_cursor"]);
    let (_, second) = app
        .get(
            &format!("{members}?q=ada&limit=1&cursor={cursor}"),
            &owner.token,
        )
        .await;
    assert_eq!(emails(&second).len(), 1);
    assert_ne!(emails(&first), emails(&second));
}

async fn workspace_and_project_memberships(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let wsadmin = app.signup("wsadmin@example.com", "WS Admin").await;
    let viewer = app.signup("viewer@example.com", "Viewer").await;
    let outsider = app.signup("outsider@example.com", "Outsider").await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    app.add_to_org(&owner.org_id, &wsadmin.id, "viewer").await;
    app.add_to_org(&owner.org_id, &viewer.id, "viewer").await;

    let (st, research) = app
        .post(
            &format!("{org}/workspaces"),
            &owner.token,
            json!({"name": "Research"}),
        )
        .await;
    assert_eq!(st, 201, "{research}");
    let research = s(&research["id"]);
    let (_, other) = app
        .post(
            &format!("{org}/workspaces"),
            &owner.token,
            json!({"name": "Other"}),
        )
        .await;
    let other = s(&other["id"]);
    problem(
        &app.post(
            &format!("{org}/workspaces"),
            &owner.token,
            json!({"name": "Research"}),
        )
        .await,
        409,
        "name_taken",
    );
    assert_eq!(
        app.get(&format!("{org}/workspaces/{research}"), &viewer.token)
            .await
            .0,
        200
    );
    problem(
        &app.get(
            &format!("{org}/workspaces/{}", uuid::Uuid::now_v7()),
            &viewer.token,
        )
        .await,
        404,
        "workspace_not_found",
    );

    // Workspace membership needs org membership first.
    let ws_members = format!("{org}/workspaces/{research}/members");
    problem(
        &app.post(
            &ws_members,
            &owner.token,
            json!({"user_id": outsider.id, "role": "admin"}),
        )
        .await,
        409,
        "not_an_org_member",
    );
    let (st, m) = app
        .post(
            &ws_members,
            &owner.token,
            json!({"email": "WSADMIN@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["scope"], "workspace");
    problem(
        &app.post(
            &ws_members,
            &owner.token,
            json!({"user_id": wsadmin.id, "role": "admin"}),
        )
        .await,
        409,
        "already_member",
    );
    problem(
        &app.post(
            &ws_members,
            &owner.token,
            json!({"user_id": viewer.id, "role": "owner"}),
        )
        .await,
        400,
        "invalid_role",
    );
    problem(
        &app.post(&ws_members, &owner.token, json!({"role": "viewer"}))
            .await,
        400,
        "user_required",
    );

    // A workspace admin manages projects and members of that workspace only.
    let (st, p) = app
        .post(
            &format!("{org}/workspaces/{research}/projects"),
            &wsadmin.token,
            json!({"name": "Chatbot"}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let project = s(&p["id"]);
    problem(
        &app.post(
            &format!("{org}/workspaces/{other}/projects"),
            &wsadmin.token,
            json!({"name": "Nope"}),
        )
        .await,
        403,
        "forbidden",
    );
    problem(
        &app.post(
            &format!("{org}/workspaces/{research}/projects"),
            &viewer.token,
            json!({"name": "Nope"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.post(
            &ws_members,
            &wsadmin.token,
            json!({"user_id": viewer.id, "role": "editor"})
        )
        .await
        .0,
        201
    );
    // ... but not the org (org role viewer).
    problem(
        &app.post(
            &format!("{org}/workspaces"),
            &wsadmin.token,
            json!({"name": "Mine"}),
        )
        .await,
        403,
        "forbidden",
    );

    // Project membership and the effective role (highest of org admin+, workspace, project).
    let p_members = format!("{org}/workspaces/{research}/projects/{project}/members");
    let (st, pm) = app
        .post(
            &p_members,
            &wsadmin.token,
            json!({"user_id": viewer.id, "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201, "{pm}");
    let (_, list) = app.get(&p_members, &viewer.token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let admin = app.admin_token().await;
    let check = |user: &str, perm: &str, ws: Option<&str>, proj: Option<&str>| json!({"user_id": user, "permission": perm, "org": owner.org_slug, "workspace": ws, "project": proj});
    let (st, r) = app
        .post(
            "/api/v1/check",
            &admin,
            check(
                &viewer.id,
                "members.manage",
                Some(&research),
                Some(&project),
            ),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r, json!({"allowed": true, "role": "admin"}));
    let (_, r) = app
        .post(
            "/api/v1/check",
            &admin,
            check(&viewer.id, "members.manage", Some(&research), None),
        )
        .await;
    assert_eq!(r, json!({"allowed": false, "role": "editor"}));
    let (_, r) = app
        .post(
            "/api/v1/check",
            &admin,
            check(&viewer.id, "org.read", None, None),
        )
        .await;
    assert_eq!(r, json!({"allowed": true, "role": "viewer"}));
    let (_, r) = app
        .post(
            "/api/v1/check",
            &admin,
            check(&owner.id, "assistants.create", Some(&other), None),
        )
        .await;
    assert_eq!(
        r,
        json!({"allowed": true, "role": "owner"}),
        "org owners count everywhere"
    );
    let (_, r) = app
        .post(
            "/api/v1/check",
            &admin,
            check(&outsider.id, "org.read", None, None),
        )
        .await;
    assert_eq!(r, json!({"allowed": false, "role": null}));
    problem(
        &app.post(
            "/api/v1/check",
            &admin,
            check(&viewer.id, "org.fly", None, None),
        )
        .await,
        400,
        "unknown_permission",
    );
    problem(
        &app.post(
            "/api/v1/check",
            &admin,
            check(&viewer.id, "org.read", Some(&project), None),
        )
        .await,
        404,
        "workspace_not_found",
    );
    problem(
        &app.post(
            "/api/v1/check",
            &owner.token,
            check(&viewer.id, "org.read", None, None),
        )
        .await,
        403,
        "system_admin_required",
    );

    // Role change and removal at project scope.
    let (st, changed) = app
        .patch(
            &format!("{p_members}/{}", viewer.id),
            &wsadmin.token,
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(st, 200, "{changed}");
    assert_eq!(
        app.delete(&format!("{p_members}/{}", viewer.id), &wsadmin.token)
            .await
            .0,
        204
    );
    problem(
        &app.delete(&format!("{p_members}/{}", viewer.id), &wsadmin.token)
            .await,
        404,
        "member_not_found",
    );

    // Leaving the org removes the workspace and project memberships too.
    app.post(
        &p_members,
        &wsadmin.token,
        json!({"user_id": viewer.id, "role": "editor"}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("{org}/members/{}", viewer.id), &owner.token)
            .await
            .0,
        204
    );
    let (_, ws_list) = app.get(&ws_members, &owner.token).await;
    assert!(
        ws_list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["user_id"] != viewer.id.as_str())
    );
    let (_, p_list) = app.get(&p_members, &owner.token).await;
    assert_eq!(p_list["items"].as_array().unwrap().len(), 0);
    // Paths that mix orgs are 404: another org's workspace under this org.
    let (_, theirs) = app
        .get(
            &format!("/api/v1/orgs/{}/workspaces", outsider.org_id),
            &outsider.token,
        )
        .await;
    let theirs = s(&theirs["items"][0]["id"]);
    problem(
        &app.get(&format!("{org}/workspaces/{theirs}"), &owner.token)
            .await,
        404,
        "workspace_not_found",
    );
    problem(
        &app.get(&format!("{org}/workspaces/{theirs}/members"), &owner.token)
            .await,
        404,
        "workspace_not_found",
    );
}

/// The schema itself enforces one membership per (user, scope) and cascades deletes.
async fn schema_enforces_membership_rules(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = uuid::Uuid::parse_str(&owner.org_id).unwrap();
    let user = uuid::Uuid::parse_str(&owner.id).unwrap();
    let dup = "INSERT INTO org_members (org_id, user_id, role, status, joined_at, updated_at) VALUES ($1, $2, 'viewer', 'active', 0, 0)";
    let null_key = "INSERT INTO org_members (org_id, user_id, role, status, joined_at, updated_at) VALUES ($1, NULL, 'viewer', 'active', 0, 0)";
    let bad_role = "UPDATE org_members SET role = 'god' WHERE org_id = $1";
    let upper_email = "UPDATE users SET email = 'OWNER@example.com' WHERE id = $1";
    // The same checks on either connection type.
    macro_rules! check {
        ($c:expr) => {{
            let c = &mut $c;
            assert!(
                sqlx::query(dup)
                    .bind(org)
                    .bind(user)
                    .execute(&mut *c)
                    .await
                    .is_err()
            );
            assert!(
                sqlx::query(null_key)
                    .bind(org)
                    .execute(&mut *c)
                    .await
                    .is_err()
            );
            assert!(
                sqlx::query(bad_role)
                    .bind(org)
                    .execute(&mut *c)
                    .await
                    .is_err()
            );
            assert!(
                sqlx::query(upper_email)
                    .bind(user)
                    .execute(&mut *c)
                    .await
                    .is_err()
            );
            sqlx::query("DELETE FROM orgs WHERE id = $1")
                .bind(org)
                .execute(&mut *c)
                .await
                .unwrap();
            for table in [
                "workspaces",
                "projects",
                "org_members",
                "invitations",
                "org_domains",
            ] {
                let sql = format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1");
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(org)
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
                assert_eq!(n, 0, "{table} rows cascade with their org");
            }
        }};
    }
    match b {
        Backend::Sqlite => check!(app.raw_sqlite().await),
        Backend::Postgres => check!(app.raw_postgres().await),
    }
}
