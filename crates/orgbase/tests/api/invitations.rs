//! Invitations: create, list, resend, revoke, accept, decline, expiry, races.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;

use crate::harness::{Backend, Test, problem, s, spawn, spawn_with};
use crate::story;
use orgbase::settings::SignupModeArg;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(invitation_lifecycle_and_refusals),
    story!(invitations_into_workspaces_and_at_signup),
    story!(signup_and_accept_races),
    story!(removal_and_role_change_revoke_open_invitations),
    story!(choosing_signup_keys_is_rate_limited),
    story!(no_inbox_is_flooded_with_invitations),
];

/// Found by an outside audit: 41 invitation mails to one address in a second, by
/// resending and re-inviting. Invitation mails are limited per invited address.
async fn no_inbox_is_flooded_with_invitations(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.rate_limits = "on".into()).await else {
        return;
    };
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let (st, inv) = app
        .post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "target@example.net"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let (st, _) = app
            .post(
                &format!("{org}/invitations/{}/resend", s(&inv["id"])),
                &owner.token,
                json!({}),
            )
            .await;
        statuses.push(st.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    problem(
        &app.post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "target@example.net"}),
        )
        .await,
        429,
        "rate_limited",
    );
    // Other addresses are not affected.
    let (st, _) = app
        .post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "other@example.net"}),
        )
        .await;
    assert_eq!(st, 201);
}

/// Found by an outside attack: a member removed (or demoted) while an older invitation
/// was still pending used it to get back in. Removing or changing a member revokes
/// their pending invitations to that scope and below.
async fn removal_and_role_change_revoke_open_invitations(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let hank = app.signup("hank@example.com", "Hank").await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let (_, wss) = app.get(&format!("{org}/workspaces"), &owner.token).await;
    let ws = s(&wss["items"][0]["id"]);
    let invite = |body: serde_json::Value| {
        let app = &app;
        let path = format!("{org}/invitations");
        let token = owner.token.clone();
        async move {
            let (st, inv) = app.post(&path, &token, body).await;
            assert_eq!(st, 201, "{inv}");
            s(&inv["token"])
        }
    };
    let first = invite(json!({"email": "hank@example.com", "role": "viewer"})).await;
    let spare =
        invite(json!({"email": "hank@example.com", "role": "admin", "workspace_id": ws})).await;
    let (st, _) = app
        .post(
            "/api/v1/invitations/accept",
            &hank.token,
            json!({"token": first}),
        )
        .await;
    assert_eq!(st, 200);

    // Removed: the spare invitation is revoked with the membership.
    let (st, _) = app
        .delete(&format!("{org}/members/{}", hank.id), &owner.token)
        .await;
    assert_eq!(st, 204);
    let refused = app
        .post(
            "/api/v1/invitations/accept",
            &hank.token,
            json!({"token": spare}),
        )
        .await;
    assert!(refused.0 == 404 || refused.0 == 409, "{refused:?}");
    problem(&app.get(&org, &hank.token).await, 404, "org_not_found");
    let (_, events) = app
        .get(&format!("{org}/audit?action=member.remove"), &owner.token)
        .await;
    assert_eq!(
        events["items"][0]["details"]["invitations_revoked"], 1,
        "{events}"
    );

    // Demoted: an older admin invitation cannot give the role back.
    let back = invite(json!({"email": "hank@example.com", "role": "admin"})).await;
    let (st, _) = app
        .post(
            "/api/v1/invitations/accept",
            &hank.token,
            json!({"token": back}),
        )
        .await;
    assert_eq!(st, 200);
    let old_offer =
        invite(json!({"email": "hank@example.com", "role": "admin", "workspace_id": ws})).await;
    let (st, _) = app
        .patch(
            &format!("{org}/members/{}", hank.id),
            &owner.token,
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(st, 200);
    let refused = app
        .post(
            "/api/v1/invitations/accept",
            &hank.token,
            json!({"token": old_offer}),
        )
        .await;
    assert!(refused.0 == 404 || refused.0 == 409, "{refused:?}");
    let (_, members) = app
        .get(&format!("{org}/workspaces/{ws}/members"), &owner.token)
        .await;
    assert!(
        !members.to_string().contains("hank@example.com"),
        "{members}"
    );
}

/// Found by an outside attack: `signup_key_taken` tells whether another org uses a key,
/// so choosing keys is limited like guessing them at sign-up.
async fn choosing_signup_keys_is_rate_limited(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.rate_limits = "on".into()).await else {
        return;
    };
    let prober = app.signup("prober@example.com", "Prober").await;
    let path = format!("/api/v1/orgs/{}/signup", prober.org_id);
    let mut statuses = Vec::new();
    for n in 0..40 {
        let (st, _) = app
            .call(
                Method::PUT,
                &path,
                Some(&prober.token),
                Some(json!({"enabled": false, "key": format!("guess-key-{n}")})),
            )
            .await;
        statuses.push(st.as_u16());
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

async fn invitation_lifecycle_and_refusals(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let invitee = app.signup("invitee@example.com", "Invitee").await;
    let other = app.signup("other@example.com", "Other").await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let invs = format!("{org}/invitations");

    // Create: the token comes back once, with a link.
    let (st, inv) = app
        .post(
            &invs,
            &owner.token,
            json!({"email": "Invitee@Example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    assert_eq!(inv["email"], "invitee@example.com");
    assert_eq!(inv["status"], "pending");
    let token = s(&inv["token"]);
    assert!(token.starts_with("obi_"));
    assert!(s(&inv["accept_url"]).contains(&token));
    let (_, list) = app
        .get(&format!("{invs}?status=pending"), &owner.token)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("token").is_none());
    problem(
        &app.post(
            &invs,
            &owner.token,
            json!({"email": "x@example.com", "role": "owner"}),
        )
        .await,
        400,
        "invalid_role",
    );
    problem(
        &app.post(&invs, &owner.token, json!({"email": "not-an-email"}))
            .await,
        400,
        "invalid_email",
    );
    problem(
        &app.post(&invs, &owner.token, json!({"email": "owner@example.com"}))
            .await,
        409,
        "already_member",
    );
    problem(
        &app.post(&invs, &invitee.token, json!({"email": "x@example.com"}))
            .await,
        404,
        "org_not_found",
    );

    // Accepting: unknown 404, wrong e-mail 403, right e-mail ok, again 409.
    let accept = |who: String, t: String| {
        let app = &app;
        async move {
            app.post("/api/v1/invitations/accept", &who, json!({"token": t}))
                .await
        }
    };
    problem(
        &accept(invitee.token.clone(), "obi_nope".into()).await,
        404,
        "invitation_not_found",
    );
    problem(
        &accept(other.token.clone(), token.clone()).await,
        403,
        "invitation_email_mismatch",
    );
    let (st, acc) = accept(invitee.token.clone(), token.clone()).await;
    assert_eq!(st, 200, "{acc}");
    assert_eq!(app.get(&org, &invitee.token).await.1["my_role"], "admin");
    problem(
        &accept(invitee.token.clone(), token.clone()).await,
        409,
        "invitation_used",
    );
    let (_, accepted) = app
        .get(&format!("{invs}?status=accepted"), &owner.token)
        .await;
    assert!(accepted["items"][0]["accepted_at"].is_string());
    // An admin may invite up to admin, not above; the member they added sees no more.
    let (st, _) = app
        .post(
            &invs,
            &invitee.token,
            json!({"email": "third@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201);

    // Expiry: 7 days.
    let (_, late) = app
        .post(&invs, &owner.token, json!({"email": "other@example.com"}))
        .await;
    app.clock.advance_seconds(8 * 86_400);
    let other_token = s(&app.login("other@example.com", "password-123").await.1["token"]);
    let owner_token = s(&app.login("owner@example.com", "password-123").await.1["token"]);
    problem(
        &accept(other_token.clone(), s(&late["token"])).await,
        410,
        "invitation_expired",
    );
    let (_, expired) = app
        .get(&format!("{invs}?status=expired"), &owner_token)
        .await;
    assert_eq!(
        expired["items"].as_array().unwrap().len(),
        2,
        "both open invitations ran out"
    );
    assert_eq!(expired["items"][0]["status"], "expired");
    // Resend: a new token and a new expiry; the old token is dead.
    let id = s(&late["id"]);
    let (st, resent) = app
        .post(&format!("{invs}/{id}/resend"), &owner_token, json!({}))
        .await;
    assert_eq!(st, 200, "{resent}");
    assert_eq!(resent["status"], "pending");
    assert_ne!(resent["token"], late["token"]);
    problem(
        &accept(other_token.clone(), s(&late["token"])).await,
        404,
        "invitation_not_found",
    );
    // Decline needs no account; then it is used.
    let decline = |t: String| {
        app.call(
            Method::POST,
            "/api/v1/invitations/decline",
            None,
            Some(json!({"token": t})),
        )
    };
    assert_eq!(decline(s(&resent["token"])).await.0, 204);
    problem(&decline(s(&resent["token"])).await, 409, "invitation_used");
    problem(
        &accept(other_token.clone(), s(&resent["token"])).await,
        409,
        "invitation_used",
    );
    problem(
        &app.post(&format!("{invs}/{id}/resend"), &owner_token, json!({}))
            .await,
        409,
        "invitation_closed",
    );
    // Revoke: gone for the invitee.
    let (_, r) = app
        .post(
            &invs,
            &owner_token,
            json!({"email": "other@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(
        app.delete(&format!("{invs}/{}", s(&r["id"])), &owner_token)
            .await
            .0,
        204
    );
    problem(
        &app.delete(&format!("{invs}/{}", s(&r["id"])), &owner_token)
            .await,
        409,
        "invitation_closed",
    );
    problem(
        &accept(other_token.clone(), s(&r["token"])).await,
        404,
        "invitation_not_found",
    );
    problem(
        &app.delete(&format!("{invs}/{}", uuid::Uuid::now_v7()), &owner_token)
            .await,
        404,
        "invitation_not_found",
    );
    problem(
        &app.get(&format!("{invs}?status=bogus"), &owner_token).await,
        400,
        "invalid_status",
    );
    // Every step is in the audit trail.
    let (_, audit) = app
        .get(&format!("{org}/audit?limit=200"), &owner_token)
        .await;
    let actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["action"]))
        .collect();
    for a in [
        "invitation.create",
        "invitation.accept",
        "invitation.resend",
        "invitation.decline",
        "invitation.revoke",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
}

async fn invitations_into_workspaces_and_at_signup(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.signup_mode = SignupModeArg::Restricted).await else {
        return;
    };
    let admin = app.admin_token().await;
    app.post(
        "/api/v1/admin/users",
        &admin,
        json!({"email": "own@x.io", "password": "password-123", "name": "Own"}),
    )
    .await;
    let (_, org) = app
        .post(
            "/api/v1/admin/orgs",
            &admin,
            json!({"name": "Team", "owner_email": "own@x.io"}),
        )
        .await;
    let own = s(&app.login("own@x.io", "password-123").await.1["token"]);
    let org_id = s(&org["id"]);
    let (_, ws) = app
        .post(
            &format!("/api/v1/orgs/{org_id}/workspaces"),
            &own,
            json!({"name": "Lab"}),
        )
        .await;
    let ws = s(&ws["id"]);
    let (_, p) = app
        .post(
            &format!("/api/v1/orgs/{org_id}/workspaces/{ws}/projects"),
            &own,
            json!({"name": "Bot"}),
        )
        .await;
    let p = s(&p["id"]);
    let invs = format!("/api/v1/orgs/{org_id}/invitations");
    problem(
        &app.post(&invs, &own, json!({"email": "n@y.io", "project_id": p}))
            .await,
        400,
        "workspace_required",
    );
    problem(
        &app.post(
            &invs,
            &own,
            json!({"email": "n@y.io", "workspace_id": uuid::Uuid::now_v7()}),
        )
        .await,
        404,
        "workspace_not_found",
    );
    let (st, inv) = app
        .post(
            &invs,
            &own,
            json!({"email": "n@y.io", "role": "editor", "workspace_id": ws, "project_id": p}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    // Restricted mode: a stranger cannot sign up, but the invitation lets them in.
    problem(
        &app.signup_with("n@y.io", json!({})).await,
        403,
        "signup_closed",
    );
    problem(
        &app.signup_with("someone@y.io", json!({"invitation_token": inv["token"]}))
            .await,
        403,
        "invitation_email_mismatch",
    );
    problem(
        &app.signup_with("n@y.io", json!({"invitation_token": "obi_unknown"}))
            .await,
        404,
        "invitation_not_found",
    );
    let (st, body) = app
        .signup_with("n@y.io", json!({"invitation_token": inv["token"]}))
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["organization"]["id"], org_id.as_str());
    let n = s(&body["token"]);
    // Org membership as viewer, the workspace and project roles as invited.
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{org_id}"), &n).await.1["my_role"],
        "viewer"
    );
    let (_, wsm) = app
        .get(
            &format!("/api/v1/orgs/{org_id}/workspaces/{ws}/members"),
            &n,
        )
        .await;
    assert_eq!(wsm["items"][0]["role"], "editor");
    let (_, pm) = app
        .get(
            &format!("/api/v1/orgs/{org_id}/workspaces/{ws}/projects/{p}/members"),
            &n,
        )
        .await;
    assert_eq!(pm["items"][0]["role"], "editor");
    problem(
        &app.signup_with("n@y.io", json!({"invitation_token": inv["token"]}))
            .await,
        409,
        "invitation_used",
    );
}

/// Two sign-ups with one e-mail at once: one user. Racing accepts of one invitation:
/// one membership.
async fn signup_and_accept_races(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.signup_with("same@example.com", json!({}))
                .await
                .0
                .as_u16()
        }));
    }
    let mut codes: Vec<u16> = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort_unstable();
    assert_eq!(codes, [201, 409, 409, 409, 409, 409, 409, 409]);
    let admin = app.admin_token().await;
    let (_, users) = app.get("/api/v1/admin/users", &admin).await;
    assert_eq!(users.to_string().matches("same@example.com").count(), 1);

    let owner = app.signup("owner@example.com", "Owner").await;
    let joiner = app.signup("joiner@example.com", "Joiner").await;
    let (_, inv) = app
        .post(
            &format!("/api/v1/orgs/{}/invitations", owner.org_id),
            &owner.token,
            json!({"email": "joiner@example.com"}),
        )
        .await;
    let token = s(&inv["token"]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, t, who) = (app.clone(), token.clone(), joiner.token.clone());
        tasks.push(tokio::spawn(async move {
            app.post("/api/v1/invitations/accept", &who, json!({"token": t}))
                .await
                .0
                .as_u16()
        }));
    }
    let mut codes: Vec<u16> = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort_unstable();
    assert_eq!(codes, [200, 409, 409, 409, 409, 409, 409, 409]);
    let (_, members) = app
        .get(
            &format!("/api/v1/orgs/{}/members", owner.org_id),
            &owner.token,
        )
        .await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    let (_, audit) = app
        .get(
            &format!(
                "/api/v1/orgs/{}/audit?action=invitation.accept",
                owner.org_id
            ),
            &owner.token,
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
}
