//! Bulk user import (`POST /orgs/{org}/users/import`, `orgbase user import`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, problem, s, spawn, spawn_with};
use crate::{story, test_on};

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[crate::harness::Test] = &[
    story!(validate_reports_every_row_and_writes_nothing),
    story!(execute_creates_adds_and_mails_links),
    story!(an_error_row_refuses_the_whole_file),
    story!(bad_files_are_refused_with_stable_codes),
    story!(max_members_holds_for_imports),
    story!(other_orgs_and_low_roles_are_kept_out),
    story!(imports_racing_single_creations_never_fail_with_5xx),
    test_on!(Sqlite, fn cli_imports_as_the_operator),
];

/// An org whose owner has proven `acme.test` (approved by a system admin).
struct Setup {
    owner: crate::harness::Account,
    org: String,
    admin: String,
}

async fn setup(app: &TestApp) -> Setup {
    let owner = app.signup("owner@acme.test", "Owner").await;
    let admin = app.admin_token().await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    let (st, d) = app
        .post(
            &format!("{org}/domains"),
            &owner.token,
            json!({"domain": "acme.test"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    let (st, d) = app
        .post(
            &format!(
                "/api/v1/admin/orgs/{}/domains/acme.test/approve",
                owner.org_id
            ),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{d}");
    Setup { owner, org, admin }
}

/// Signs up in the proven domain: admitted, in no org until the address is proven.
async fn signup_in_domain(app: &TestApp, email: &str) -> String {
    let (st, body) = app.signup_with(email, json!({})).await;
    assert_eq!(st, 201, "{body}");
    s(&body["user"]["id"])
}

async fn member_emails(app: &TestApp, org: &str, token: &str) -> Vec<String> {
    let (st, m) = app.get(&format!("{org}/members?limit=200"), token).await;
    assert_eq!(st, 200, "{m}");
    let mut v: Vec<String> = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(&i["email"]))
        .collect();
    v.sort();
    v
}

fn row<'a>(report: &'a Value, email: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == email)
        .unwrap_or_else(|| panic!("no row for {email}: {report}"))
}

async fn validate_reports_every_row_and_writes_nothing(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.access_blocked_emails = Some("blocked@acme.test".into());
    })
    .await
    else {
        return;
    };
    let Setup { owner, org, admin } = setup(&app).await;
    // An account in the domain that is not a member, and a disabled one.
    let bea = signup_in_domain(&app, "bea@acme.test").await;
    let gone = signup_in_domain(&app, "gone@acme.test").await;
    let (st, d) = app
        .patch(
            &format!("/api/v1/admin/users/{gone}"),
            &admin,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(st, 200, "{d}");
    let before = member_emails(&app, &org, &owner.token).await;

    let csv = "email,name,role,workspace\n\
        New@Acme.test,New Person,editor,\n\
        owner@acme.test,Owner,viewer,\n\
        bea@acme.test,,viewer,Default\n\
        not-an-email,X,viewer,\n\
        x1@acme.test,X,wizard,\n\
        x2@acme.test,X,owner,\n\
        x3@gmail.com,X,viewer,\n\
        x4@acme.test,X,viewer,Nope\n\
        new@acme.test,Again,viewer,\n\
        gone@acme.test,Gone,viewer,\n\
        blocked@acme.test,Blocked,viewer,\n\
        x5@acme.test,,viewer,\n";
    let path = format!("{org}/users/import?dry_run=true");
    let (st, r) = app.post_csv(&path, &owner.token, csv).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["dry_run"].clone(), r["executed"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(
        r["totals"],
        json!({"rows": 12, "create": 1, "add": 1, "skip": 1, "error": 9}),
        "{r}"
    );
    let new = row(&r, "new@acme.test");
    assert_eq!(
        (new["outcome"].clone(), new["line"].clone()),
        (json!("create"), json!(2))
    );
    assert_eq!(new["role"], "editor");
    let skip = row(&r, "owner@acme.test");
    assert_eq!(
        (skip["outcome"].clone(), skip["code"].clone()),
        (json!("skip"), json!("already_member"))
    );
    let add = row(&r, "bea@acme.test");
    assert_eq!(add["outcome"], "add");
    assert_eq!(add["user_id"], json!(bea));
    assert!(add["workspace_id"].is_string(), "{add}");
    let codes: Vec<(String, String)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "error")
        .map(|r| (s(&r["email"]), s(&r["code"])))
        .collect();
    assert_eq!(
        codes,
        [
            ("not-an-email", "invalid_email"),
            ("x1@acme.test", "unknown_role"),
            ("x2@acme.test", "owner_role"),
            ("x3@gmail.com", "domain_not_claimed"),
            ("x4@acme.test", "unknown_workspace"),
            ("new@acme.test", "duplicate_row"),
            ("gone@acme.test", "user_disabled"),
            ("blocked@acme.test", "email_blocked"),
            ("x5@acme.test", "invalid_name"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
        "{r}"
    );
    assert!(
        row(&r, "x4@acme.test")["reason"]
            .as_str()
            .unwrap()
            .contains("Nope")
    );
    // Nothing written: no account, no member, no mail.
    assert_eq!(member_emails(&app, &org, &owner.token).await, before);
    let email = orgbase_domain::Email::parse("new@acme.test").unwrap();
    assert!(app.store.user_by_email(&email).await.unwrap().is_none());
    assert!(
        app.mailed_link("new@acme.test", "account_created")
            .await
            .is_none()
    );
    // The default is a dry run too.
    let (st, r2) = app
        .post_csv(&format!("{org}/users/import"), &owner.token, csv)
        .await;
    assert_eq!(st, 200, "{r2}");
    assert_eq!(r2["executed"], false);
}

async fn execute_creates_adds_and_mails_links(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let Setup { owner, org, .. } = setup(&app).await;
    signup_in_domain(&app, "bea@acme.test").await;
    let (st, ws) = app
        .post(
            &format!("{org}/workspaces"),
            &owner.token,
            json!({"name": "Research"}),
        )
        .await;
    assert_eq!(st, 201, "{ws}");
    let csv = "email,name,role,workspace\n\
        ann@acme.test,Ann,editor,\n\
        bea@acme.test,Bea,admin,\n\
        cid@acme.test,Cid,editor,research\n\
        owner@acme.test,Owner,viewer,\n";
    let path = format!("{org}/users/import?dry_run=false");
    let (st, r) = app.post_csv(&path, &owner.token, csv).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["executed"], true);
    assert_eq!(
        r["totals"],
        json!({"rows": 4, "create": 2, "add": 1, "skip": 1, "error": 0})
    );
    assert!(row(&r, "ann@acme.test")["user_id"].is_string(), "{r}");
    let (_, members) = app
        .get(&format!("{org}/members?limit=200"), &owner.token)
        .await;
    let role_of = |email: &str| {
        members["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == email)
            .map(|m| s(&m["role"]))
    };
    assert_eq!(role_of("ann@acme.test").as_deref(), Some("editor"));
    assert_eq!(role_of("bea@acme.test").as_deref(), Some("admin"));
    // Into a workspace: viewer of the org, the row's role in the workspace.
    assert_eq!(role_of("cid@acme.test").as_deref(), Some("viewer"));
    let (_, wm) = app
        .get(
            &format!("{org}/workspaces/{}/members", s(&ws["id"])),
            &owner.token,
        )
        .await;
    assert!(
        wm["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == "cid@acme.test" && m["role"] == "editor"),
        "{wm}"
    );
    // New accounts got a mailed one-time link; it sets the password and proves the
    // address. Existing accounts got no mail.
    let token = app
        .mailed_token("ann@acme.test", "account_created")
        .await
        .expect("a set-password mail");
    assert!(
        app.mailed_link("bea@acme.test", "account_created")
            .await
            .is_none()
    );
    let (st, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/set-password",
            None,
            Some(json!({"token": token, "password": "ann-password-1"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, login) = app.login("ann@acme.test", "ann-password-1").await;
    assert_eq!(st, 200, "{login}");
    let (_, me) = app.get("/api/v1/me", &s(&login["token"])).await;
    assert_eq!(me["user"]["email_verified"], true, "{me}");
    assert_eq!(me["user"]["home_org_id"], json!(owner.org_id));
    // The audit: one summary event, and an event per account and membership.
    let (_, audit) = app
        .get(&format!("{org}/audit?action=user.import"), &owner.token)
        .await;
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(
        items[0]["details"],
        json!({"rows": 4, "created": 2, "added": 1, "skipped": 1})
    );
    let (_, adds) = app
        .get(
            &format!("{org}/audit?action=member.add&limit=200"),
            &owner.token,
        )
        .await;
    assert!(adds["items"].as_array().unwrap().len() >= 4, "{adds}");
    let (_, creates) = app
        .get(&format!("{org}/audit?action=user.create"), &owner.token)
        .await;
    assert_eq!(creates["items"].as_array().unwrap().len(), 2, "{creates}");
    // Running it again finds everyone there.
    let (st, again) = app.post_csv(&path, &owner.token, csv).await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["totals"]["skip"], 4, "{again}");
}

async fn an_error_row_refuses_the_whole_file(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let Setup { owner, org, .. } = setup(&app).await;
    let before = member_emails(&app, &org, &owner.token).await;
    let csv = "email,name,role\nann@acme.test,Ann,editor\nzed@elsewhere.test,Zed,viewer\n";
    let got = app
        .post_csv(
            &format!("{org}/users/import?dry_run=false"),
            &owner.token,
            csv,
        )
        .await;
    problem(&got, 422, "import_has_errors");
    let r = &got.1["report"];
    assert_eq!(r["executed"], false);
    assert_eq!(r["totals"]["error"], 1, "{r}");
    assert_eq!(row(r, "zed@elsewhere.test")["code"], "domain_not_claimed");
    assert_eq!(row(r, "ann@acme.test")["outcome"], "create");
    assert_eq!(member_emails(&app, &org, &owner.token).await, before);
    let email = orgbase_domain::Email::parse("ann@acme.test").unwrap();
    assert!(app.store.user_by_email(&email).await.unwrap().is_none());
    assert!(
        app.mailed_link("ann@acme.test", "account_created")
            .await
            .is_none()
    );
    let (_, audit) = app
        .get(&format!("{org}/audit?action=user.import"), &owner.token)
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 0);
}

async fn bad_files_are_refused_with_stable_codes(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let Setup { owner, org, .. } = setup(&app).await;
    let path = format!("{org}/users/import?dry_run=false");
    let t = owner.token.as_str();
    problem(
        &app.post_csv(&path, t, "mail,name,role\na@acme.test,A,viewer\n")
            .await,
        400,
        "invalid_csv_header",
    );
    problem(&app.post_csv(&path, t, "").await, 400, "invalid_csv_header");
    problem(
        &app.post_csv(&path, t, "email,name,role\n").await,
        400,
        "empty_csv",
    );
    let latin1: Vec<u8> = b"email,name,role\na@acme.test,J\xf8rgen,viewer\n".to_vec();
    problem(
        &app.call_raw(Method::POST, &path, Some(t), "text/csv", latin1)
            .await,
        400,
        "invalid_csv_encoding",
    );
    let got = app
        .post_csv(
            &path,
            t,
            "email,name,role\na@acme.test,A,viewer\nb@acme.test,B\n",
        )
        .await;
    problem(&got, 400, "malformed_csv");
    assert!(s(&got.1["detail"]).contains("line 3"), "{}", got.1);
    let mut big = String::from("email,name,role\n");
    for i in 0..5001 {
        big.push_str(&format!("u{i}@acme.test,U,viewer\n"));
    }
    problem(&app.post_csv(&path, t, &big).await, 400, "too_many_rows");
    let huge = format!("email,name,role\n{}", "a".repeat(3 * 1024 * 1024));
    problem(
        &app.post_csv(&path, t, &huge).await,
        413,
        "payload_too_large",
    );
    problem(
        &app.call(
            Method::POST,
            &path,
            Some(t),
            Some(json!({"email": "a@acme.test"})),
        )
        .await,
        415,
        "unsupported_media_type",
    );
    problem(
        &app.post_csv(
            &format!("{org}/users/import?dry_run=maybe"),
            t,
            "email,name,role\n",
        )
        .await,
        400,
        "invalid_query",
    );
    // Nothing was written by any of them.
    assert_eq!(member_emails(&app, &org, t).await, vec!["owner@acme.test"]);
}

async fn max_members_holds_for_imports(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let Setup { owner, org, .. } = setup(&app).await;
    let (st, c) = app
        .patch(
            &format!("{org}/config"),
            &owner.token,
            json!({"limits": {"max_members": 3}}),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    // Room for two: the third new member is an error, and the file is refused.
    let csv = "email,name,role\na@acme.test,A,viewer\nb@acme.test,B,viewer\nc@acme.test,C,viewer\n";
    let (st, r) = app
        .post_csv(&format!("{org}/users/import"), &owner.token, csv)
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(row(&r, "c@acme.test")["code"], "limit_exceeded", "{r}");
    let got = app
        .post_csv(
            &format!("{org}/users/import?dry_run=false"),
            &owner.token,
            csv,
        )
        .await;
    problem(&got, 422, "import_has_errors");
    // Racing imports that each fit alone, more of them than the pool has connections
    // (4 in tests): the org's lock lets the limit hold, and nobody waits forever.
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (app, org, token) = (app.clone(), org.clone(), owner.token.clone());
        tasks.push(tokio::spawn(async move {
            let csv =
                format!("email,name,role\nr{i}a@acme.test,R,viewer\nr{i}b@acme.test,R,viewer\n");
            app.post_csv(&format!("{org}/users/import?dry_run=false"), &token, &csv)
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st.as_u16() {
            200 => ok += 1,
            409 => assert_eq!(body["code"], "limit_exceeded", "{body}"),
            422 => assert_eq!(body["code"], "import_has_errors", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(member_emails(&app, &org, &owner.token).await.len(), 3);
}

async fn other_orgs_and_low_roles_are_kept_out(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let Setup { owner, org, .. } = setup(&app).await;
    let stranger = app.signup("stranger@other.test", "Stranger").await;
    let csv = "email,name,role\nann@acme.test,Ann,viewer\n";
    let got = app
        .post_csv(
            &format!("{org}/users/import?dry_run=false"),
            &stranger.token,
            csv,
        )
        .await;
    problem(&got, 404, "org_not_found");
    // Its own org does not own acme.test.
    let (st, r) = app
        .post_csv(
            &format!("/api/v1/orgs/{}/users/import", stranger.org_id),
            &stranger.token,
            csv,
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(row(&r, "ann@acme.test")["code"], "domain_not_claimed");
    // A viewer of the org may not.
    let viewer = app.signup("vic@other.test", "Vic").await;
    app.add_to_org(&owner.org_id, &viewer.id, "viewer").await;
    problem(
        &app.post_csv(&format!("{org}/users/import"), &viewer.token, csv)
            .await,
        403,
        "forbidden",
    );
    assert_eq!(member_emails(&app, &org, &owner.token).await.len(), 2);
}

fn cli_imports_as_the_operator() {
    use std::process::{Command, Stdio};
    let dir =
        std::env::temp_dir().join(format!("orgbase-import-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    let run = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_orgbase"))
            .args(args)
            .env("DATABASE_URL", &db)
            .env("ORGBASE_ARGON2_MEMORY_KIB", "64")
            .env("ORGBASE_ARGON2_ITERATIONS", "1")
            .env("ORGBASE_MASTER_KEY", crate::harness::TEST_MASTER_KEY)
            .env_remove("ORGBASE_ADMIN_EMAIL")
            .env_remove("ORGBASE_ADMIN_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, _, err) = run(
        &["admin", "create", "--email", "root@example.com"],
        Some("a-long-password\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner",
            "root@example.com",
        ],
        None,
    );
    assert!(ok, "{err}");
    let file = dir.join("users.csv");
    // The operator may create accounts for any e-mail, like a system admin.
    std::fs::write(
        &file,
        "email,name,role\nann@anywhere.test,Ann,editor\nroot@example.com,Root,viewer\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let (ok, out, err) = run(&["user", "import", f, "--org", "acme", "--dry-run"], None);
    assert!(ok, "{out}{err}");
    assert!(err.contains("row 2/2"), "{err}");
    assert!(out.contains("create\tann@anywhere.test"), "{out}");
    assert!(out.contains("skip\troot@example.com"), "{out}");
    assert!(
        out.contains("dry run: 2 rows: 1 create, 0 add, 1 skip, 0 error"),
        "{out}"
    );
    let (ok, out, err) = run(&["user", "import", f, "--org", "acme"], None);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("imported: 2 rows: 1 create, 0 add, 1 skip, 0 error"),
        "{out}"
    );
    let (ok, out, _) = run(&["mail", "outbox"], None);
    assert!(
        ok && out.contains("account_created\tann@anywhere.test"),
        "{out}"
    );
    // A file with an error row: nothing written, a failing exit, the report.
    std::fs::write(&file, "email,name,role\nbob@anywhere.test,Bob,owner\n").unwrap();
    let (ok, out, err) = run(&["user", "import", f, "--org", "acme"], None);
    assert!(!ok, "{out}");
    assert!(
        out.contains("error\tbob@anywhere.test") && out.contains("owner_role"),
        "{out}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    let (ok, _, err) = run(&["user", "import", f, "--org", "nope"], None);
    assert!(!ok && err.contains("not found"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// An import and an org admin's account creation for an address in the file, at once,
/// again and again: one wins, the other is refused (`email_taken`, or
/// `concurrent_change` if the database had to break a deadlock); never a 5xx. (The
/// creation used to take the org's lock after inserting the user, the import before:
/// a deadlock on PostgreSQL, answered 500.)
async fn imports_racing_single_creations_never_fail_with_5xx(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let st = setup(&app).await;
    let app = std::sync::Arc::new(app);
    for round in 0..6 {
        let csv = (0..5)
            .map(|i| format!("r{round}-{i}@acme.test,Row {i},viewer"))
            .collect::<Vec<_>>()
            .join("\n");
        let import = {
            let (app, org, token) = (app.clone(), st.org.clone(), st.owner.token.clone());
            tokio::spawn(async move {
                app.call_raw(
                    Method::POST,
                    &format!("{org}/users/import?dry_run=false"),
                    Some(&token),
                    "text/csv",
                    format!("email,name,role\n{csv}\n"),
                )
                .await
            })
        };
        let single = {
            let (app, org, token) = (app.clone(), st.org.clone(), st.owner.token.clone());
            tokio::spawn(async move {
                app.post(
                    &format!("{org}/users"),
                    &token,
                    json!({"email": format!("r{round}-3@acme.test"), "name": "Single", "role": "viewer"}),
                )
                .await
            })
        };
        for (what, got) in [
            ("import", import.await.unwrap()),
            ("create", single.await.unwrap()),
        ] {
            assert!(
                got.0.as_u16() < 500,
                "round {round}: the {what} answered {} {}",
                got.0,
                got.1
            );
        }
    }
}
