//! Races: slugs, concurrent writers.

use std::collections::HashSet;

use serde_json::json;

use crate::harness::{Backend, Test, s, spawn};
use crate::story;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[story!(slug_race), story!(concurrent_writes)];

/// 50 requests create an org with the same name at once: all succeed, each with its
/// own slug (`acme`, `acme-2`, ... `acme-50`).
async fn slug_race(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("racer@example.com", "Racer").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (app, token) = (app.clone(), a.token.clone());
        tasks.push(tokio::spawn(async move {
            app.post("/api/v1/orgs", &token, json!({"name": "Acme"}))
                .await
        }));
    }
    let mut slugs = HashSet::new();
    for t in tasks {
        let (st, body) = t.await.unwrap();
        assert_eq!(st, 201, "{body}");
        assert!(
            slugs.insert(s(&body["slug"])),
            "duplicate slug {}",
            body["slug"]
        );
    }
    let want: HashSet<String> = std::iter::once("acme".to_string())
        .chain((2..=50).map(|n| format!("acme-{n}")))
        .collect();
    assert_eq!(slugs, want);
    // Each has exactly one default workspace and an owner membership.
    let (_, mine) = app.get("/api/v1/orgs?limit=200", &a.token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 51);
}

/// Many concurrent writers on one org: nothing lost, nothing duplicated.
async fn concurrent_writes(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let a = app.signup("writer@example.com", "Writer").await;
    let app = std::sync::Arc::new(app);
    let org = format!("/api/v1/orgs/{}/workspaces", a.org_id);
    let mut tasks = Vec::new();
    // 40 distinct names, each requested twice: exactly one of each pair wins.
    for i in 0..80 {
        let (app, token, org) = (app.clone(), a.token.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            app.post(&org, &token, json!({"name": format!("ws-{}", i % 40)}))
                .await
                .0
        }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap().as_u16() {
            201 => created += 1,
            409 => conflicts += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((created, conflicts), (40, 40));
    let (_, list) = app.get(&format!("{org}?limit=200"), &a.token).await;
    let names: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| s(&w["name"]))
        .collect();
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(names.len(), 41, "40 new + Default");
    assert_eq!(unique.len(), 41);
    // Every successful write has exactly one audit event.
    let (_, audit) = app
        .get(
            &format!(
                "/api/v1/orgs/{}/audit?action=workspace.create&limit=200",
                a.org_id
            ),
            &a.token,
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 40);
}
