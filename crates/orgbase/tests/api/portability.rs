//! Export and import of an organization (SPEC §6, ADR 0018): a round trip into a fresh
//! server gives the same document; secrets only for the owner; imports are idempotent,
//! validated and all-or-nothing; isolation holds.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Backend, Test, TestApp, problem, s, spawn};
use crate::story;

pub const TESTS: &[Test] = &[
    story!(export_import_round_trip),
    story!(export_is_for_admins_and_secrets_for_the_owner),
    story!(import_refuses_bad_documents_whole),
];

const OPENAI_KEY: &str = "sk-export-abcdefghijklmnop1234";
const KB_KEY: &str = "kb-export-zyxwvutsrqpo9876";

struct Built {
    owner: String,
    admin_token: String,
    org: String,
}

/// An org with a configuration (two secrets), signup settings, a pending and a
/// verified domain, a second workspace with a project, and members at each scope.
async fn build(app: &TestApp) -> Built {
    let sys = app.admin_token().await;
    let owner = app.signup("owner@export-co.test", "Olive Owner").await;
    let (st, org) = app
        .post(
            "/api/v1/orgs",
            &owner.token,
            json!({"name": "Export Co", "slug": "export-co", "description": "Exported",
                   "default_framework": "openwebui", "default_language_model": "gpt-4o-mini",
                   "public": true}),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let o = "export-co";
    let (st, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/orgs/{o}/config"),
            Some(&owner.token),
            Some(json!({
                "providers": {"openai": {"api_key": OPENAI_KEY, "models": ["gpt-4o-mini"], "default_model": "gpt-4o-mini"}},
                "knowledge_base": {"url": "https://kb.example", "api_key": KB_KEY},
                "features": {"rag_enabled": true},
                "limits": {"max_assistants": 10},
                "extensions": {"lamb": {"x": 1}}
            })),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/orgs/{o}/signup"),
            Some(&owner.token),
            Some(json!({"enabled": true, "default_role": "editor"})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    for d in ["pending.export-co.test", "verified.export-co.test"] {
        let (st, body) = app
            .post(
                &format!("/api/v1/orgs/{o}/domains"),
                &owner.token,
                json!({"domain": d, "role": "viewer", "auto_join": d.starts_with("verified")}),
            )
            .await;
        assert_eq!(st, 201, "{body}");
    }
    let (st, body) = app
        .post(
            &format!("/api/v1/admin/orgs/{o}/domains/verified.export-co.test/approve"),
            &sys,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let (st, ws) = app
        .post(
            &format!("/api/v1/orgs/{o}/workspaces"),
            &owner.token,
            json!({"name": "Research"}),
        )
        .await;
    assert_eq!(st, 201, "{ws}");
    let ws = s(&ws["id"]);
    let (st, p) = app
        .post(
            &format!("/api/v1/orgs/{o}/workspaces/{ws}/projects"),
            &owner.token,
            json!({"name": "Alpha"}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let p = s(&p["id"]);
    let admin = app.signup("adam@export-co.test", "Adam Admin").await;
    let viewer = app.signup("vera@export-co.test", "Vera Viewer").await;
    app.add_to_org(o, &admin.id, "admin").await;
    app.add_to_org(o, &viewer.id, "viewer").await;
    let (st, body) = app
        .post(
            &format!("/api/v1/orgs/{o}/workspaces/{ws}/members"),
            &owner.token,
            json!({"user_id": viewer.id, "role": "editor"}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = app
        .post(
            &format!("/api/v1/orgs/{o}/workspaces/{ws}/projects/{p}/members"),
            &owner.token,
            json!({"user_id": viewer.id, "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    // Assistants: one derived, in the project, owned by the viewer (an editor there is
    // not enough to create; the owner makes it for them); one explicit with metadata;
    // two of the same name.
    for body in [
        json!({"name": "Tutor", "project_id": p, "owner_id": viewer.id}),
        json!({"name": "Grader", "language_model": "ollama/llama3.1", "framework": "lamb",
               "metadata": {"lamb": {"connector": "ollama"}, "system_prompt": "Be fair."}}),
        json!({"name": "Grader", "description": "the second one"}),
    ] {
        let (st, a) = app
            .post(&format!("/api/v1/orgs/{o}/assistants"), &owner.token, body)
            .await;
        assert_eq!(st, 201, "{a}");
    }
    Built {
        owner: owner.token,
        admin_token: admin.token,
        org: o.to_string(),
    }
}

async fn export(app: &TestApp, org: &str, token: &str, secrets: bool) -> Value {
    let (st, doc) = app
        .get(
            &format!("/api/v1/orgs/{org}/export?include_secrets={secrets}"),
            token,
        )
        .await;
    assert_eq!(st, 200, "{doc}");
    doc
}

async fn import(app: &TestApp, token: &str, doc: &Value, query: &str) -> (u16, Value) {
    let (st, body) = app
        .post(&format!("/api/v1/orgs/import{query}"), token, doc.clone())
        .await;
    (st.as_u16(), body)
}

/// Logs in as `email` on `app` after giving the account a password (imported
/// accounts have none).
async fn token_of(app: &TestApp, email: &str) -> String {
    let sys = app.admin_token().await;
    let (_, users) = app.get("/api/v1/admin/users?limit=200", &sys).await;
    let id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .map(|u| s(&u["id"]))
        .unwrap_or_else(|| panic!("no {email}: {users}"));
    let (st, body) = app
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            &sys,
            json!({"password": "password-456"}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = app.login(email, "password-456").await;
    assert_eq!(st, 200, "{body}");
    s(&body["token"])
}

async fn export_import_round_trip(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let built = build(&app).await;
    let full = export(&app, &built.org, &built.owner, true).await;
    let bare = export(&app, &built.org, &built.owner, false).await;

    // The document: no ids, no times; secrets in the clear only when asked for.
    assert_eq!(full["version"], 1, "{full}");
    let assistants = full["assistants"].as_array().unwrap();
    assert_eq!(assistants.len(), 3, "{full}");
    assert_eq!(assistants[0]["name"], "Grader");
    assert_eq!(assistants[0]["language_model_source"], "explicit");
    assert_eq!(assistants[0]["metadata"]["system_prompt"], "Be fair.");
    assert_eq!(assistants[1]["description"], "the second one");
    assert_eq!(assistants[2]["owner"], "vera@export-co.test");
    assert_eq!(
        assistants[2]["project"],
        json!({"workspace": "Research", "project": "Alpha"})
    );
    assert_eq!(full["config"]["providers"]["openai"]["api_key"], OPENAI_KEY);
    assert_eq!(full["config"]["knowledge_base"]["api_key"], KB_KEY);
    assert!(full["org"]["signup"]["key"].is_string(), "{full}");
    let text = bare.to_string();
    assert!(
        !text.contains(OPENAI_KEY) && !text.contains(KB_KEY),
        "{bare}"
    );
    assert!(
        !text.contains('…'),
        "secrets are left out, not masked: {bare}"
    );
    assert!(
        bare["config"]["providers"]["openai"]
            .get("api_key")
            .is_none()
    );
    assert!(bare["org"]["signup"].get("key").is_none(), "{bare}");
    assert_eq!(bare["secrets_included"], false);
    assert_eq!(
        bare["config"]["providers"]["openai"]["models"],
        json!(["gpt-4o-mini"])
    );
    assert!(
        !text.contains("\"id\"") && !text.contains("_at\""),
        "{bare}"
    );
    assert_eq!(
        full["members"],
        json!([
            {"email": "adam@export-co.test", "name": "Adam Admin", "role": "admin"},
            {"email": "owner@export-co.test", "name": "Olive Owner", "role": "owner"},
            {"email": "vera@export-co.test", "name": "Vera Viewer", "role": "viewer"},
        ])
    );
    assert_eq!(
        full["workspaces"],
        json!([
            {"name": "Default", "members": [], "projects": [{"name": "Default", "members": []}]},
            {"name": "Research", "members": [{"email": "vera@export-co.test", "role": "editor"}],
             "projects": [{"name": "Alpha", "members": [{"email": "vera@export-co.test", "role": "admin"}]}]},
        ])
    );
    assert_eq!(
        full["domains"],
        json!([
            {"domain": "pending.export-co.test", "auto_join": false, "role": "viewer", "status": "pending"},
            {"domain": "verified.export-co.test", "auto_join": true, "role": "viewer", "status": "verified"},
        ])
    );

    // Into a fresh server: the same document comes out again.
    let Some(fresh) = spawn(b).await else { return };
    let sys = fresh.admin_token().await;
    let (st, report) = import(&fresh, &sys, &full, "?verify_domains=true").await;
    assert_eq!((st, &report["created"]), (200, &json!(true)), "{report}");
    assert_eq!(report["created"], true);
    assert_eq!(
        report["accounts_created"],
        json!([
            "adam@export-co.test",
            "owner@export-co.test",
            "vera@export-co.test"
        ])
    );
    assert_eq!(report["domains_pending"], json!([]));
    assert_eq!(export(&fresh, "export-co", &sys, false).await, bare);
    let owner2 = token_of(&fresh, "owner@export-co.test").await;
    assert_eq!(export(&fresh, "export-co", &owner2, true).await, full);
    // The secrets are sealed for the new org and masked on read.
    let (_, config) = fresh.get("/api/v1/orgs/export-co/config", &owner2).await;
    assert_eq!(
        config["providers"]["openai"]["api_key"], "sk-…1234",
        "{config}"
    );

    // Again: nothing changes, nothing is written.
    let (_, audit_before) = fresh
        .get("/api/v1/orgs/export-co/audit?action=org.import", &sys)
        .await;
    assert_eq!(audit_before["items"].as_array().unwrap().len(), 1);
    let (st, report) = import(&fresh, &sys, &full, "?verify_domains=true").await;
    assert_eq!(st, 200, "{report}");
    assert_eq!(report["changed"], false, "{report}");
    assert_eq!(report["accounts_created"], json!([]));
    let (_, audit_after) = fresh
        .get("/api/v1/orgs/export-co/audit?action=org.import", &sys)
        .await;
    assert_eq!(audit_after["items"].as_array().unwrap().len(), 1);
    // A document without secrets keeps the stored ones.
    let (st, report) = import(&fresh, &sys, &bare, "?verify_domains=true").await;
    assert_eq!((st, &report["changed"]), (200, &json!(false)), "{report}");
    assert_eq!(export(&fresh, "export-co", &owner2, true).await, full);

    // Into the existing org, changed: it is updated to match, nothing duplicated.
    let mut changed = full.clone();
    changed["org"]["name"] = json!("Export Company");
    changed["members"][2]["role"] = json!("editor");
    changed["domains"][0]["auto_join"] = json!(true);
    changed["domains"][0]["role"] = json!("editor");
    changed["workspaces"][1]["projects"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Beta"}));
    let (st, report) = import(&fresh, &sys, &changed, "?verify_domains=true").await;
    assert_eq!((st, &report["changed"]), (200, &json!(true)), "{report}");
    let again = export(&fresh, "export-co", &owner2, true).await;
    assert_eq!(again["org"]["name"], "Export Company");
    assert_eq!(again["members"][2]["role"], "editor");
    assert_eq!(
        again["domains"][0],
        json!({"domain": "pending.export-co.test", "auto_join": true, "role": "editor", "status": "pending"})
    );
    assert_eq!(
        again["workspaces"][1]["projects"].as_array().unwrap().len(),
        2
    );
    let (_, events) = fresh
        .get("/api/v1/orgs/export-co/audit?action=org.import", &sys)
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2, "{events}");
    let (_, events) = app
        .get(
            "/api/v1/orgs/export-co/audit?action=org.export",
            &built.owner,
        )
        .await;
    assert_eq!(events["items"][0]["details"]["include_secrets"], false);

    // A verified claim is not verified for free: without verify_domains it stays
    // pending (and may sit beside another org's verified claim)...
    let mut copy = bare.clone();
    copy["org"]["slug"] = json!("export-copy");
    let (st, report) = import(&fresh, &sys, &copy, "").await;
    assert_eq!((st, &report["created"]), (200, &json!(true)), "{report}");
    assert_eq!(
        report["domains_pending"],
        json!(["verified.export-co.test"])
    );
    let copied = export(&fresh, "export-copy", &sys, false).await;
    assert_eq!(copied["domains"][1]["status"], "pending", "{copied}");
    // ... and vouching for a domain another org has proven refuses the whole import.
    copy["org"]["slug"] = json!("export-copy-2");
    copy["members"][0]["email"] = json!("new-person@export-co.test");
    let got = import(&fresh, &sys, &copy, "?verify_domains=true").await;
    assert_eq!(
        (got.0, &got.1["code"]),
        (409, &json!("domain_taken")),
        "{}",
        got.1
    );
    let (st, _) = fresh.get("/api/v1/orgs/export-copy-2", &sys).await;
    assert_eq!(st, 404);
    let (_, users) = fresh.get("/api/v1/admin/users?limit=200", &sys).await;
    assert!(
        !users.to_string().contains("new-person@export-co.test"),
        "nothing half-written: {users}"
    );
}

async fn export_is_for_admins_and_secrets_for_the_owner(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let built = build(&app).await;
    let o = &built.org;
    // An admin exports, without secrets only.
    let doc = export(&app, o, &built.admin_token, false).await;
    assert_eq!(doc["org"]["slug"], "export-co");
    let got = app
        .get(
            &format!("/api/v1/orgs/{o}/export?include_secrets=true"),
            &built.admin_token,
        )
        .await;
    problem(&got, 403, "export_secrets_owner_only");
    // A system admin who is not the owner: the same.
    let sys = app.admin_token().await;
    export(&app, o, &sys, false).await;
    let got = app
        .get(
            &format!("/api/v1/orgs/{o}/export?include_secrets=true"),
            &sys,
        )
        .await;
    problem(&got, 403, "export_secrets_owner_only");
    // A viewer may not export; another org's admin does not see the org.
    let vera = app.login("vera@export-co.test", "password-123").await;
    let got = app
        .get(&format!("/api/v1/orgs/{o}/export"), &s(&vera.1["token"]))
        .await;
    problem(&got, 403, "forbidden");
    let other = app.signup("other@elsewhere.test", "Other").await;
    let got = app
        .get(&format!("/api/v1/orgs/{o}/export"), &other.token)
        .await;
    problem(&got, 404, "org_not_found");
    assert!(!got.1.to_string().contains("Export Co"));
    let got = app
        .get(
            &format!("/api/v1/orgs/{}/export", other.org_slug),
            &built.owner,
        )
        .await;
    problem(&got, 404, "org_not_found");
    let got = app
        .get(&format!("/api/v1/orgs/{o}/export?secrets=1"), &built.owner)
        .await;
    problem(&got, 400, "invalid_query");
    // Import is for system admins only.
    let got = app
        .post("/api/v1/orgs/import", &built.owner, doc.clone())
        .await;
    problem(&got, 403, "system_admin_required");
}

async fn import_refuses_bad_documents_whole(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let sys = app.admin_token().await;
    let good = json!({
        "version": 1,
        "org": {"slug": "fresh-org", "name": "Fresh Org"},
        "config": {"providers": {"openai": {"api_key": OPENAI_KEY}}},
        "workspaces": [{"name": "Team", "members": [{"email": "m@fresh.test", "role": "editor"}]}],
        "members": [
            {"email": "o@fresh.test", "role": "owner"},
            {"email": "m@fresh.test", "name": "Member", "role": "viewer"}
        ],
        "assistants": [{"name": "Helper", "owner": "o@fresh.test", "metadata": {"system_prompt": "Hi."}}]
    });
    let bad = |path: &[&str], v: Value| {
        let mut d = good.clone();
        let mut at = &mut d;
        for p in &path[..path.len() - 1] {
            at = at.get_mut(*p).unwrap();
        }
        at[path[path.len() - 1]] = v;
        d
    };
    let cases = [
        (
            bad(&["version"], json!(2)),
            422,
            "unsupported_export_version",
        ),
        (
            bad(&["version"], json!("1")),
            422,
            "unsupported_export_version",
        ),
        (
            bad(&["org", "slug"], json!("Not A Slug")),
            422,
            "invalid_slug",
        ),
        (bad(&["org", "slug"], json!("admin")), 422, "reserved_slug"),
        (bad(&["org", "name"], json!("")), 422, "invalid_name"),
        (
            bad(
                &["members"],
                json!([{"email": "o@fresh.test", "role": "boss"}]),
            ),
            422,
            "invalid_role",
        ),
        (
            bad(
                &["members"],
                json!([{"email": "o@fresh.test", "role": "admin"}]),
            ),
            422,
            "owner_required",
        ),
        (
            bad(
                &["members"],
                json!([{"email": "not-an-email", "role": "owner"}]),
            ),
            422,
            "invalid_email",
        ),
        (
            bad(&["config"], json!({"provider": {}})),
            422,
            "unknown_config_key",
        ),
        (
            bad(
                &["config"],
                json!({"providers": {"openai": {"api_key": "sk-…1234"}}}),
            ),
            422,
            "masked_secret",
        ),
        (
            bad(&["domains"], json!([{"domain": "gmail.com"}])),
            422,
            "public_email_domain",
        ),
        (
            bad(
                &["domains"],
                json!([{"domain": "x.test", "status": "proven"}]),
            ),
            422,
            "invalid_status",
        ),
        (
            bad(
                &["workspaces"],
                json!([{"name": "T", "members": [{"email": "z@fresh.test", "role": "viewer"}]}]),
            ),
            422,
            "not_an_org_member",
        ),
        (
            bad(&["workspaces"], json!([{"name": "T"}, {"name": "T"}])),
            422,
            "duplicate_entry",
        ),
        (bad(&["org", "colour"], json!("red")), 422, "invalid_export"),
        (
            bad(
                &["assistants"],
                json!([{"name": "A", "owner": "stranger@fresh.test"}]),
            ),
            422,
            "not_an_org_member",
        ),
        (
            bad(
                &["assistants"],
                json!([{"name": "A", "project": {"workspace": "Team", "project": "Nope"}}]),
            ),
            422,
            "unknown_project",
        ),
        (
            bad(&["assistants"], json!([{"name": "A", "metadata": [1]}])),
            422,
            "invalid_metadata",
        ),
        (
            bad(
                &["assistants"],
                json!([{"name": "A", "framework_source": "guessed"}]),
            ),
            422,
            "invalid_export",
        ),
    ];
    for (doc, status, code) in cases {
        let got = app.post("/api/v1/orgs/import", &sys, doc.clone()).await;
        problem(&got, status, code);
    }
    let got = app.post("/api/v1/orgs/import", &sys, json!([1])).await;
    problem(&got, 422, "invalid_export");
    let got = app.post("/api/v1/orgs/import", &sys, json!({})).await;
    problem(&got, 422, "unsupported_export_version");
    let raw = app
        .client
        .post(format!("{}/api/v1/orgs/import", app.base))
        .bearer_auth(&sys)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    // Nothing of the refused documents exists.
    let (st, _) = app.get("/api/v1/orgs/fresh-org", &sys).await;
    assert_eq!(st, 404);
    let (_, users) = app.get("/api/v1/admin/users?limit=200", &sys).await;
    assert!(!users.to_string().contains("fresh.test"), "{users}");

    // The good one: created, its accounts without a password, its assistant.
    let (st, report) = import(&app, &sys, &good, "").await;
    assert_eq!((st, &report["created"]), (200, &json!(true)), "{report}");
    let doc = export(&app, "fresh-org", &sys, false).await;
    assert_eq!(doc["assistants"][0]["name"], "Helper", "{doc}");
    assert_eq!(doc["assistants"][0]["owner"], "o@fresh.test");
    assert_eq!(doc["members"][1]["name"], "o");
    let (st, _) = app.login("o@fresh.test", "").await;
    assert!(st.is_client_error());
}
