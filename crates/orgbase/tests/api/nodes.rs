//! Several `orgbase serve` nodes on one database behave as one server
//! (docs/deploy.md): sessions made on one work on the others, a disabled user is
//! refused everywhere at once (no node caches what the database says), usage limits
//! hold across nodes, and a mail goes out once whichever node's worker takes it.
//! Authentication rate limits are per node, as the deployment guide says.

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
    story!(rate_limits_are_per_node),
];

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
