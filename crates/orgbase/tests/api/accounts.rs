//! Sign-up, login, sessions, passwords and API keys.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Backend, Test, problem, s, spawn, spawn_with};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(signup_gives_a_personal_org),
    story!(restricted_mode_refuses_signup),
    story!(login_logout_and_tokens),
    story!(password_change_ends_other_sessions),
    story!(personal_api_keys),
    story!(admin_creates_and_lists_users),
];

async fn signup_gives_a_personal_org(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let alice = app.signup("Alice@Example.com", "Alice Smith").await;
    assert_eq!(alice.email, "alice@example.com");
    assert_eq!(alice.org_slug, "alice-smith");
    let (st, me) = app.get("/api/v1/me", &alice.token).await;
    assert_eq!(st, 200);
    assert_eq!(me["user"]["home_org_id"], alice.org_id.as_str());
    assert_eq!(me["memberships"][0]["role"], "owner");
    assert_eq!(me["memberships"][0]["org_slug"], "alice-smith");
    // A second user gets their own org; the same name gets the next free slug.
    let other = app.signup("alice2@example.com", "Alice Smith").await;
    assert_eq!(other.org_slug, "alice-smith-2");
    // E-mails are unique, case-insensitively.
    let dup = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "ALICE@example.com", "password": "password-123", "name": "A"})),
        )
        .await;
    problem(&dup, 409, "email_taken");
    // Nothing was half-written by the refused sign-up: still two users besides the admin.
    let admin = app.admin_token().await;
    let (_, users) = app.get("/api/v1/admin/users", &admin).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 3);
    // Password hashes never leave the server.
    assert!(users.to_string().find("argon2").is_none());
}

async fn restricted_mode_refuses_signup(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.signup_mode = orgbase::settings::SignupModeArg::Restricted
    })
    .await
    else {
        return;
    };
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "x@example.com", "password": "password-123", "name": "X"})),
        )
        .await;
    problem(&r, 403, "signup_closed");
}

async fn login_logout_and_tokens(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let bob = app.signup("bob@example.com", "Bob").await;
    let (st, body) = app.login("BOB@example.com", "password-123").await;
    assert_eq!(st, 200, "{body}");
    let token = s(&body["token"]);
    assert!(token.starts_with("obs_"));
    assert!(body["user"]["last_login_at"].is_string());
    problem(
        &app.login("bob@example.com", "wrong-password").await,
        401,
        "invalid_credentials",
    );
    problem(
        &app.login("nobody@example.com", "password-123").await,
        401,
        "invalid_credentials",
    );
    problem(
        &app.login("not-an-email", "password-123").await,
        401,
        "invalid_credentials",
    );
    // Forged and malformed tokens.
    for bad in ["obs_0000", "obk_ffff", "garbage", &format!("{token}x")] {
        problem(&app.get("/api/v1/me", bad).await, 401, "unauthenticated");
    }
    problem(
        &app.call(Method::GET, "/api/v1/me", None, None).await,
        401,
        "unauthenticated",
    );
    // Logout ends that session only.
    let (st, _) = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(st, 204);
    problem(&app.get("/api/v1/me", &token).await, 401, "unauthenticated");
    assert_eq!(app.get("/api/v1/me", &bob.token).await.0, 200);
    // Sessions expire (default 14 days).
    app.clock.advance_seconds(15 * 24 * 3600);
    problem(
        &app.get("/api/v1/me", &bob.token).await,
        401,
        "unauthenticated",
    );
}

async fn password_change_ends_other_sessions(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let carol = app.signup("carol@example.com", "Carol").await;
    let other = s(&app.login("carol@example.com", "password-123").await.1["token"]);
    let wrong = app
        .post(
            "/api/v1/me/password",
            &carol.token,
            json!({"current_password": "nope-nope", "new_password": "new-password-1"}),
        )
        .await;
    problem(&wrong, 403, "wrong_password");
    let short = app
        .post(
            "/api/v1/me/password",
            &carol.token,
            json!({"current_password": "password-123", "new_password": "short"}),
        )
        .await;
    problem(&short, 400, "invalid_password");
    let ok = app
        .post(
            "/api/v1/me/password",
            &carol.token,
            json!({"current_password": "password-123", "new_password": "new-password-1"}),
        )
        .await;
    assert_eq!(ok.0, 204, "{}", ok.1);
    assert_eq!(
        app.get("/api/v1/me", &carol.token).await.0,
        200,
        "the session that changed it stays"
    );
    problem(&app.get("/api/v1/me", &other).await, 401, "unauthenticated");
    problem(
        &app.login("carol@example.com", "password-123").await,
        401,
        "invalid_credentials",
    );
    assert_eq!(
        app.login("carol@example.com", "new-password-1").await.0,
        200
    );
}

async fn personal_api_keys(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let dan = app.signup("dan@example.com", "Dan").await;
    let (st, key) = app
        .post(
            "/api/v1/me/api-keys",
            &dan.token,
            json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(st, 201, "{key}");
    let token = s(&key["token"]);
    assert!(token.starts_with("obk_"));
    assert_eq!(key["prefix"], &token[..12]);
    let (st, me) = app.get("/api/v1/me", &token).await;
    assert_eq!(st, 200);
    assert_eq!(me["user"]["email"], "dan@example.com");
    let (_, list) = app.get("/api/v1/me/api-keys", &dan.token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(
        list["items"][0].get("token").is_none(),
        "the token is shown once only"
    );
    // An API key cannot log out; it is revoked by deleting it.
    problem(
        &app.call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
            .await,
        400,
        "not_a_session",
    );
    problem(
        &app.post(
            "/api/v1/me/api-keys",
            &dan.token,
            json!({"name": "x", "expires_in_days": 0}),
        )
        .await,
        400,
        "invalid_expiry",
    );
    // Expiry.
    let (_, short) = app
        .post(
            "/api/v1/me/api-keys",
            &dan.token,
            json!({"name": "short", "expires_in_days": 1}),
        )
        .await;
    let short_token = s(&short["token"]);
    assert_eq!(app.get("/api/v1/me", &short_token).await.0, 200);
    app.clock.advance_seconds(2 * 86_400);
    problem(
        &app.get("/api/v1/me", &short_token).await,
        401,
        "unauthenticated",
    );
    // Revocation, and others cannot revoke my keys.
    let id = s(&key["id"]);
    let eve = app.signup("eve@example.com", "Eve").await;
    problem(
        &app.delete(&format!("/api/v1/me/api-keys/{id}"), &eve.token)
            .await,
        404,
        "api_key_not_found",
    );
    assert_eq!(
        app.delete(&format!("/api/v1/me/api-keys/{id}"), &dan.token)
            .await
            .0,
        204
    );
    problem(&app.get("/api/v1/me", &token).await, 401, "unauthenticated");
}

async fn admin_creates_and_lists_users(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin = app.admin_token().await;
    let (st, u) = app
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "Frank@Example.com", "password": "password-123", "name": "Frank"}),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    assert_eq!(u["email"], "frank@example.com");
    assert_eq!(u["home_org_id"], serde_json::Value::Null);
    assert_eq!(app.login("frank@example.com", "password-123").await.0, 200);
    problem(
        &app.post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "frank@example.com", "password": "password-123", "name": "F"}),
        )
        .await,
        409,
        "email_taken",
    );
    let frank = s(&app.login("frank@example.com", "password-123").await.1["token"]);
    problem(
        &app.get("/api/v1/admin/users", &frank).await,
        403,
        "system_admin_required",
    );
    problem(
        &app.post(
            "/api/v1/admin/users",
            &frank,
            json!({"email": "g@example.com", "password": "password-123", "name": "G"}),
        )
        .await,
        403,
        "system_admin_required",
    );
    // Paging through all users, two at a time.
    for i in 0..3 {
        app.post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": format!("u{i}@example.com"), "password": "password-123", "name": "U"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/users?limit=2&cursor={c}"),
            None => "/api/v1/admin/users?limit=2".to_string(),
        };
        let (st, page) = app.get(&path, &admin).await;
        assert_eq!(st, 200, "{page}");
        for u in page["items"].as_array().unwrap() {
            seen.push(s(&u["email"]));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen.sort();
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(seen, dedup);
    assert_eq!(seen.len(), 5, "{seen:?}");
}
