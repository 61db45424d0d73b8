//! Several `orgbase serve` nodes on one database behave as one server
//! (docs/deploy.md): sessions made on one work on the others, a change made on one
//! node (or by anyone else writing the database) reaches every node's read cache within
//! its bound (ADR 0024), usage limits hold across nodes, and a mail goes out once
//! whichever node's worker takes it. Authentication rate limits are per node, as the
//! deployment guide says.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Test, problem, s, spawn_with};
use crate::smtp::{Mode, SmtpServer};
use crate::web::Browser;
use crate::{story, test_on};

/// Several nodes share a PostgreSQL; an SQLite file belongs to one `serve` process (a
/// second process writing the same file meets SQLITE_BUSY: docs/deploy.md), so the
/// two-node story runs on PostgreSQL only.
pub const TESTS: &[Test] = &[
    test_on!(Postgres, two_nodes_share_sessions_limits_and_mail),
    test_on!(
        Postgres,
        a_change_on_one_node_reaches_the_other_within_the_bound
    ),
    story!(a_change_made_outside_the_server_reaches_it_within_the_bound),
    story!(rate_limits_are_per_node),
];

/// Waits out the read cache's bound: an answer given after this reflects every change
/// committed before it started (ADR 0024). Not a timing guess: the cache answers only
/// while its last confirmation is younger than `FRESH_FOR`.
async fn after_the_bound() {
    tokio::time::sleep(orgbase_store::cache::FRESH_FOR + std::time::Duration::from_millis(5)).await;
}

const FROM: &str = "Orgbase <orgbase@example.com>";

async fn two_nodes_share_sessions_limits_and_mail() {
    let b = Backend::Postgres;
    let smtp = SmtpServer::start(Mode::Accept).await;
    let url = smtp.url();
    let mail = |s: &mut orgbase::settings::Settings, url: String| {
        s.smtp_url = Some(url);
        s.mail_from = Some(FROM.into());
    };
    let Some(one) = spawn_with(b, |s| mail(s, url.clone())).await else {
        return;
    };
    let two = one.another_node(|s| mail(s, url.clone())).await;

    // A session made on one node works on the other, both ways, and ends everywhere.
    let owner = one.signup("nodes-owner@example.com", "Owner").await;
    assert_eq!(two.get("/api/v1/me", &owner.token).await.0, 200);
    let (st, login) = two.login("nodes-owner@example.com", "password-123").await;
    assert_eq!(st, 200, "{login}");
    let second = s(&login["token"]);
    assert_eq!(one.get("/api/v1/me", &second).await.0, 200);
    let (st, _) = two
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(&second),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(one.get("/api/v1/me", &second).await.0, 401);
    // The panels' cookie too: signed in on one, the account page opens on the other.
    let mut web = Browser::new(&one);
    web.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut other = Browser::new(&two);
    other.cookies = web.cookies.clone();
    assert_eq!(other.get("/account").await.status, StatusCode::OK);

    // Disabled on one node: refused by the other on its next request.
    let admin = one.admin_token().await;
    let member = one.signup("nodes-member@example.com", "Member").await;
    assert_eq!(two.get("/api/v1/me", &member.token).await.0, 200);
    let (st, body) = one
        .patch(
            &format!("/api/v1/admin/users/{}", member.id),
            &admin,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        one.get("/api/v1/me", &member.token).await.0,
        401,
        "at once here"
    );
    after_the_bound().await;
    assert_eq!(two.get("/api/v1/me", &member.token).await.0, 401);

    // A usage limit holds when both nodes add members at once.
    let org = format!("/api/v1/orgs/{}", owner.org_slug);
    let (st, body) = one
        .patch(
            &format!("{org}/config"),
            &owner.token,
            json!({"limits": {"max_members": 3}}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let mut joiners = Vec::new();
    for i in 0..6 {
        joiners.push(
            one.signup(&format!("nodes-joiner-{i}@example.com"), "Joiner")
                .await,
        );
    }
    let mut adds = Vec::new();
    for (i, u) in joiners.iter().enumerate() {
        let base = if i % 2 == 0 { &one.base } else { &two.base };
        let req = one
            .client
            .post(format!("{base}{org}/members"))
            .bearer_auth(&admin)
            .json(&json!({"user_id": u.id, "role": "viewer"}));
        adds.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut added = 0;
    for a in adds {
        let st = a.await.unwrap();
        match st.as_u16() {
            201 => added += 1,
            409 => {}
            other => panic!("adding a member answered {other}"),
        }
    }
    assert_eq!(added, 2, "the owner and two more make the limit of 3");
    let (_, members) = two.get(&format!("{org}/members"), &owner.token).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 3, "{members}");
    // Someone who was not in the race (any of the six may have won a place).
    let late = one.signup("nodes-late@example.com", "Late").await;
    problem(
        &two.post(
            &format!("{org}/members"),
            &admin,
            json!({"user_id": late.id, "role": "viewer"}),
        )
        .await,
        409,
        "limit_exceeded",
    );

    // One invitation, two mail workers: one mail.
    let (st, body) = two
        .post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "nodes-guest@example.com"}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let to_guest = || {
        smtp.all_mail()
            .into_iter()
            .filter(|m| m.to == ["nodes-guest@example.com".to_string()])
            .count()
    };
    for _ in 0..100 {
        if to_guest() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Long enough for both workers to have polled several times more.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(to_guest(), 1, "sent once");
}

/// Node two has the member's answers cached; changes made on node one reach it within
/// the bound, and node one sees them at once.
async fn a_change_on_one_node_reaches_the_other_within_the_bound() {
    let Some(one) = spawn_with(Backend::Postgres, |_| {}).await else {
        return;
    };
    let two = one.another_node(|_| {}).await;
    let owner = one.signup("bound-owner@example.com", "Owner").await;
    let member = one.signup("bound-member@example.com", "Member").await;
    one.add_to_org(&owner.org_slug, &member.id, "viewer").await;
    let org = format!("/api/v1/orgs/{}", owner.org_slug);
    let members = format!("{org}/members?limit=50");
    for _ in 0..3 {
        assert_eq!(two.get(&org, &member.token).await.0, 200);
        assert_eq!(two.get(&members, &member.token).await.0, 200);
        assert_eq!(two.get("/api/v1/orgs", &member.token).await.0, 200);
    }

    // Removed from the org on node one.
    let (st, body) = one
        .delete(&format!("{org}/members/{}", member.id), &owner.token)
        .await;
    assert_eq!(st, 204, "{body}");
    assert_eq!(one.get(&org, &member.token).await.0, 404, "at once here");
    after_the_bound().await;
    assert_eq!(two.get(&org, &member.token).await.0, 404);
    let (_, mine) = two.get("/api/v1/orgs", &member.token).await;
    assert!(
        !mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["slug"] == owner.org_slug.as_str()),
        "{mine}"
    );
    let (_, page) = two.get(&members, &owner.token).await;
    assert!(
        !page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == member.id.as_str()),
        "{page}"
    );

    // A session ended on node one (sign-out) no longer works on node two.
    assert_eq!(two.get("/api/v1/me", &member.token).await.0, 200);
    let (st, body) = one
        .post("/api/v1/auth/logout", &member.token, json!({}))
        .await;
    assert!(st.is_success(), "{st} {body}");
    after_the_bound().await;
    assert_eq!(two.get("/api/v1/me", &member.token).await.0, 401);
}

/// Someone else writes the database (the CLI on the same SQLite file, an operator's SQL
/// on PostgreSQL): the running server's cached answers give way within the bound.
async fn a_change_made_outside_the_server_reaches_it_within_the_bound(b: Backend) {
    const MAX_AGE_MS: u64 = 300;
    // SQLite runs with its default, no age bound: its watcher alone must see the write.
    let Some(app) = spawn_with(b, |s| {
        if b == Backend::Postgres {
            s.read_cache_max_age_ms = Some(MAX_AGE_MS);
        }
    })
    .await
    else {
        return;
    };
    let member = app.signup("outside-member@example.com", "Member").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/me", &member.token).await.0, 200);
    }
    let id: uuid::Uuid = member.id.parse().unwrap();
    let sql = "UPDATE users SET enabled = FALSE WHERE id = $1";
    match b {
        Backend::Sqlite => {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut app.raw_sqlite().await)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut app.raw_postgres().await)
                .await
                .unwrap();
        }
    }
    after_the_bound().await;
    assert_eq!(app.get("/api/v1/me", &member.token).await.0, 401);

    // A write that fires no trigger (as `pg_restore --disable-triggers` and logical
    // replication make them) is not announced: the cache's age bound
    // (ORGBASE_READ_CACHE_MAX_AGE_MS) holds for it.
    if b == Backend::Postgres {
        let other = app.signup("silent-member@example.com", "Member").await;
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/me", &other.token).await.0, 200);
        }
        let mut c = app.raw_postgres().await;
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(sql)
            .bind(other.id.parse::<uuid::Uuid>().unwrap())
            .execute(&mut c)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(MAX_AGE_MS + 5)).await;
        assert_eq!(app.get("/api/v1/me", &other.token).await.0, 401);
    }
}

/// The login budget is counted in each node's memory: spent on one node, the other
/// still has its own (docs/deploy.md says so and how to size it).
async fn rate_limits_are_per_node(b: Backend) {
    let Some(one) = spawn_with(b, |s| s.rate_limits = "on".into()).await else {
        return;
    };
    let two = one.another_node(|s| s.rate_limits = "on".into()).await;
    one.signup("nodes-rl@example.com", "RL").await;
    for _ in 0..10 {
        problem(
            &one.login("nodes-rl@example.com", "wrong-password").await,
            401,
            "invalid_credentials",
        );
    }
    problem(
        &one.login("nodes-rl@example.com", "password-123").await,
        429,
        "rate_limited",
    );
    assert_eq!(
        two.login("nodes-rl@example.com", "password-123").await.0,
        200
    );
}
