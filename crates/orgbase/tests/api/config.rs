//! An organization's configuration (SPEC §6): validated on write, secrets sealed at
//! rest and masked on read, the mask written back keeps the secret, merge patches.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Backend, Test, TestApp, problem, spawn};
use crate::story;

pub const TESTS: &[Test] = &[
    story!(config_is_validated_sealed_and_masked),
    story!(max_members_holds_on_every_path_and_under_races),
    story!(max_orgs_per_user_holds_under_races),
];

/// `ORGBASE_MAX_ORGS_PER_USER`: 12 parallel creations by one user with room for 3
/// more leave exactly 3 (the personal org counts).
async fn max_orgs_per_user_holds_under_races(b: Backend) {
    let Some(app) = crate::harness::spawn_with(b, |s| s.max_orgs_per_user = Some(4)).await else {
        return;
    };
    let user = app.signup("maker@example.com", "Maker").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, token) = (app.clone(), user.token.clone());
        tasks.push(tokio::spawn(async move {
            app.post("/api/v1/orgs", &token, json!({"name": format!("Org {i}")}))
                .await
        }));
    }
    let mut made = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st.as_u16() {
            201 => made += 1,
            _ => assert_eq!(body["code"], "limit_exceeded", "{body}"),
        }
    }
    assert_eq!(made, 3);
    let (_, mine) = app.get("/api/v1/orgs", &user.token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 4, "{mine}");
}

const OPENAI_KEY: &str = "sk-live-abcdefghijklmnop1234";
const KB_KEY: &str = "kb-secret-zyxwvutsrqpo9876";

/// Every stored byte of the orgs table, as the database holds it.
async fn stored_config_text(app: &TestApp, b: Backend) -> String {
    match b {
        Backend::Sqlite => {
            // The file itself and its write-ahead log: no plaintext anywhere.
            let path = app.database_url.trim_start_matches("sqlite://").to_string();
            let mut bytes = std::fs::read(&path).unwrap_or_default();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres => {
            use sqlx::Row;
            // The test's schema as `pg_dump` writes it (what a backup holds).
            if let (Some(pg_dump), Some(url), Some(schema)) = (
                crate::harness::find_program("pg_dump"),
                crate::harness::postgres_url(),
                app.pg_schema.clone(),
            ) {
                let out = std::process::Command::new(pg_dump)
                    .args(["--data-only", "--schema", &schema, "--dbname", &url])
                    .output()
                    .expect("pg_dump runs");
                assert!(
                    out.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let dump = String::from_utf8_lossy(&out.stdout).into_owned();
                assert!(dump.contains("COPY"), "pg_dump wrote no data: {dump}");
                return dump;
            }
            eprintln!("pg_dump not found: reading the orgs table instead");
            let mut c = app.raw_postgres().await;
            let rows = sqlx::query("SELECT config::text AS c FROM orgs")
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.get::<String, _>("c"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

async fn config_is_validated_sealed_and_masked(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let path = format!("/api/v1/orgs/{}/config", owner.org_id);
    let put = |doc: Value| app.call(Method::PUT, &path, Some(&owner.token), Some(doc));

    let (st, empty) = app.get(&path, &owner.token).await;
    assert_eq!(st, 200);
    assert_eq!(empty, json!({}));

    // The SPEC's example: accepted, secrets masked in the answer.
    let doc = json!({
        "providers": {
            "openai": {"api_key": OPENAI_KEY, "base_url": "https://api.openai.com/v1",
                       "models": ["gpt-4o-mini"], "default_model": "gpt-4o-mini"},
            "ollama": {"base_url": "http://ollama:11434", "models": ["llama3.1"]}
        },
        "knowledge_base": {"url": "https://kb.example.org", "api_key": KB_KEY, "embedding_model": "e5"},
        "features": {"rag_enabled": true, "sharing_enabled": true},
        "limits": {"max_members": null, "max_assistants": 100, "max_assistants_per_user": 10,
                   "tokens_per_month": 1000000, "requests_per_minute": null},
        "inherit_system_providers": false,
        "extensions": {"lamb": {"connector": "openai", "system_prompt": "Be kind."}}
    });
    let (st, shown) = put(doc.clone()).await;
    assert_eq!(st, 200, "{shown}");
    assert_eq!(shown["providers"]["openai"]["api_key"], "sk-…1234");
    assert_eq!(shown["knowledge_base"]["api_key"], "kb-…9876");
    assert_eq!(shown["extensions"]["lamb"]["system_prompt"], "Be kind.");
    assert_eq!(app.get(&path, &owner.token).await.1, shown);
    let at_rest = stored_config_text(&app, b).await;
    assert!(
        !at_rest.contains(OPENAI_KEY) && !at_rest.contains(KB_KEY),
        "plaintext at rest"
    );
    assert!(!at_rest.contains("sk-…1234"), "masks are not stored either");
    assert!(at_rest.contains("enc:v1:"), "the sealed secrets are there");

    // Writing back what a read showed keeps the secrets.
    let (st, again) = put(shown.clone()).await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again, shown);
    // A merge patch: null removes, objects merge, masks keep their secrets.
    let (st, patched) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.token),
            Some(json!({"providers": {"openai": {"default_model": null}}, "limits": {"max_assistants": 5}})),
        )
        .await;
    assert_eq!(st, 200, "{patched}");
    assert!(
        patched["providers"]["openai"]
            .get("default_model")
            .is_none()
    );
    assert_eq!(patched["providers"]["openai"]["api_key"], "sk-…1234");
    assert_eq!(patched["limits"]["max_assistants"], 5);
    // A new key replaces the old one.
    let (st, replaced) = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.token),
            Some(json!({"providers": {"openai": {"api_key": "sk-other-key-0000005678"}}})),
        )
        .await;
    assert_eq!(st, 200, "{replaced}");
    assert_eq!(replaced["providers"]["openai"]["api_key"], "sk-…5678");

    // Refusals name what is wrong; nothing is half-written.
    let e = put(json!({"provider": {}})).await;
    problem(&e, 422, "unknown_config_key");
    assert!(
        e.1["detail"].as_str().unwrap().contains("'provider'"),
        "{}",
        e.1
    );
    // NUL characters: PostgreSQL's jsonb cannot hold them, so neither backend takes them.
    let e = put(json!({"extensions": {"k": "a\u{0}b"}})).await;
    problem(&e, 422, "invalid_config");
    problem(
        &put(json!({"providers": {"ollama": {"api_key": "sk-…abcd"}}})).await,
        422,
        "masked_secret_unknown",
    );
    problem(
        &put(json!({"providers": {"openai": {"base_url": "ftp://nope"}}})).await,
        422,
        "invalid_config",
    );
    problem(
        &put(json!({"limits": {"max_members": -3}})).await,
        422,
        "invalid_config",
    );
    problem(
        &put(json!(["not", "an", "object"])).await,
        422,
        "invalid_config",
    );
    problem(
        &put(json!({"inherit_system_providers": true})).await,
        403,
        "system_admin_required",
    );
    assert_eq!(app.get(&path, &owner.token).await.1, replaced);

    // Only a system admin lets an org use the server's providers.
    let admin = app.admin_token().await;
    let (st, inherited) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"inherit_system_providers": true})),
        )
        .await;
    assert_eq!(st, 200, "{inherited}");
    assert_eq!(inherited["inherit_system_providers"], true);

    // The audit trail names what changed, never a secret.
    let (_, events) = app
        .get(
            &format!("/api/v1/orgs/{}/audit?action=config.update", owner.org_id),
            &owner.token,
        )
        .await;
    let text = events.to_string();
    assert_eq!(events["items"].as_array().unwrap().len(), 5, "{events}");
    assert!(text.contains("providers.openai.api_key"), "{text}");
    assert!(
        !text.contains(OPENAI_KEY) && !text.contains("sk-other-key"),
        "{text}"
    );
}

/// `limits.max_members` holds for every way in (signup key, invitation, admin add), and
/// under concurrency: 20 parallel sign-ups against room for 10 leave exactly 10.
async fn max_members_holds_on_every_path_and_under_races(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let (st, _) = app
        .call(
            Method::PATCH,
            &format!("{org}/config"),
            Some(&owner.token),
            Some(json!({"limits": {"max_members": 11}})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, settings) = app
        .call(
            Method::PUT,
            &format!("{org}/signup"),
            Some(&owner.token),
            Some(json!({"enabled": true, "key": "race-key-2026"})),
        )
        .await;
    assert_eq!(st, 200, "{settings}");

    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.signup_with(
                &format!("racer{i}@example.com"),
                json!({"signup_key": "race-key-2026"}),
            )
            .await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let joined = results.iter().filter(|(st, _)| st.as_u16() == 201).count();
    let refused = results
        .iter()
        .filter(|(st, body)| st.as_u16() == 409 && body["code"] == "limit_exceeded")
        .count();
    assert_eq!((joined, refused), (10, 10), "{results:?}");
    let (_, usage) = app.get(&format!("{org}/usage"), &owner.token).await;
    assert_eq!(
        usage["members"],
        json!({"used": 11, "limit": 11}),
        "{usage}"
    );

    // Full: an invitation cannot be accepted, an admin cannot add anyone.
    let late = app.signup("late@example.com", "Late").await;
    let (st, inv) = app
        .post(
            &format!("{org}/invitations"),
            &owner.token,
            json!({"email": "late@example.com"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    problem(
        &app.post(
            "/api/v1/invitations/accept",
            &late.token,
            json!({"token": inv["token"]}),
        )
        .await,
        409,
        "limit_exceeded",
    );
    let admin = app.admin_token().await;
    problem(
        &app.post(
            &format!("{org}/members"),
            &admin,
            json!({"user_id": late.id, "role": "viewer"}),
        )
        .await,
        409,
        "limit_exceeded",
    );
    // No limit: they get in.
    app.call(
        Method::PATCH,
        &format!("{org}/config"),
        Some(&owner.token),
        Some(json!({"limits": {"max_members": null}})),
    )
    .await;
    let (st, _) = app
        .post(
            "/api/v1/invitations/accept",
            &late.token,
            json!({"token": inv["token"]}),
        )
        .await;
    assert_eq!(st, 200);
}
