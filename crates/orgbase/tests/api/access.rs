//! Who gets in and where they land (SPEC §4): modes, lists, signup keys, domains,
//! account management, rate limits and the system org.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Backend, Test, problem, s, spawn, spawn_with};
use crate::story;
use orgbase::settings::SignupModeArg;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story!(claimed_domain_lands_users_in_their_org),
    story!(signup_keys),
    story!(allow_and_block_lists),
    story!(allowed_owners_and_orgless_users),
    story!(disabled_users_stop_at_once),
    story!(org_admins_create_accounts),
    story!(rate_limits_trip_and_recover),
    story!(system_org_is_synced_from_the_environment),
];

/// The municipality example of the README: `aarhus.dk` users land in the Aarhus org.
async fn claimed_domain_lands_users_in_their_org(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.signup_mode = SignupModeArg::Restricted).await else {
        return;
    };
    let admin = app.admin_token().await;
    let (_, u) = app
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "it@aarhus.dk", "password": "password-123", "name": "IT"}),
        )
        .await;
    let (st, org) = app
        .post(
            "/api/v1/admin/orgs",
            &admin,
            json!({"name": "Aarhus Kommune", "owner_email": "it@aarhus.dk"}),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let it = s(&app.login("it@aarhus.dk", "password-123").await.1["token"]);
    let domains = "/api/v1/orgs/aarhus-kommune/domains";
    let (st, d) = app
        .post(
            domains,
            &it,
            json!({"domain": " @Aarhus.DK ", "role": "editor"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    assert_eq!(d["domain"], "aarhus.dk");
    assert_eq!(d["auto_join"], true);
    assert_eq!(d["status"], "pending");
    assert_eq!(d["txt_record"]["name"], "_orgbase-challenge.aarhus.dk");
    problem(
        &app.post(domains, &it, json!({"domain": "not a domain"}))
            .await,
        400,
        "invalid_domain",
    );
    problem(
        &app.post(domains, &it, json!({"domain": "aarhus.dk"})).await,
        409,
        "domain_already_claimed",
    );
    // A pending claim does nothing: nobody has proven the domain is theirs.
    problem(
        &app.signup_with("Alice@Aarhus.dk", json!({})).await,
        403,
        "signup_closed",
    );
    // A system admin approves it (instead of the DNS proof).
    let approve = "/api/v1/admin/orgs/aarhus-kommune/domains/aarhus.dk/approve";
    problem(
        &app.post(approve, &it, json!({})).await,
        403,
        "system_admin_required",
    );
    let (st, d) = app.post(approve, &admin, json!({})).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["status"], "verified");
    assert_eq!(u["home_org_id"], serde_json::Value::Null);
    // Another org may claim it too, but not prove it: one verified claim per domain.
    let (st, _) = app
        .post(
            "/api/v1/orgs/system/domains",
            &admin,
            json!({"domain": "aarhus.dk"}),
        )
        .await;
    assert_eq!(st, 201);
    problem(
        &app.post(
            "/api/v1/admin/orgs/system/domains/aarhus.dk/approve",
            &admin,
            json!({}),
        )
        .await,
        409,
        "domain_taken",
    );

    // Restricted mode, no key, no invitation: the proven domain admits the sign-up,
    // and the org takes the user in once they prove the address is theirs.
    let (st, body) = app.signup_with("Alice@Aarhus.dk", json!({})).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["organization"], serde_json::Value::Null, "{body}");
    assert_eq!(body["user"]["email_verified"], false);
    let alice = s(&body["token"]);
    let verified = app.verify_email("alice@aarhus.dk").await;
    assert_eq!(verified["organization"]["slug"], "aarhus-kommune");
    assert_eq!(verified["user"]["home_org_id"], org["id"]);
    assert_eq!(verified["user"]["email_verified"], true);
    let (_, me) = app.get("/api/v1/me", &alice).await;
    assert_eq!(me["memberships"][0]["role"], "editor");
    // Subdomains belong to the claim.
    let (st, body) = app.signup_with("bo@skole.aarhus.dk", json!({})).await;
    assert_eq!(st, 201, "{body}");
    let verified = app.verify_email("bo@skole.aarhus.dk").await;
    assert_eq!(verified["organization"]["slug"], "aarhus-kommune");
    // A stranger is refused.
    problem(
        &app.signup_with("eve@example.com", json!({})).await,
        403,
        "signup_closed",
    );
    // Released domain: no more auto-join. Claims without auto-join do not admit either.
    assert_eq!(
        app.delete(&format!("{domains}/aarhus.dk"), &it).await.0,
        204
    );
    problem(
        &app.delete(&format!("{domains}/aarhus.dk"), &it).await,
        404,
        "domain_not_found",
    );
    problem(
        &app.signup_with("carl@aarhus.dk", json!({})).await,
        403,
        "signup_closed",
    );
    app.post(
        domains,
        &it,
        json!({"domain": "aarhus.dk", "auto_join": false}),
    )
    .await;
    problem(
        &app.signup_with("carl@aarhus.dk", json!({})).await,
        403,
        "signup_closed",
    );
    let (_, list) = app.get(domains, &alice).await;
    assert_eq!(list["items"][0]["auto_join"], false);
    problem(
        &app.post(domains, &alice, json!({"domain": "x.dk"})).await,
        403,
        "forbidden",
    );
}

async fn signup_keys(b: Backend) {
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
    app.post(
        "/api/v1/admin/orgs",
        &admin,
        json!({"name": "Keyed", "owner_email": "own@x.io"}),
    )
    .await;
    app.post(
        "/api/v1/admin/orgs",
        &admin,
        json!({"name": "Other", "owner_email": "own@x.io"}),
    )
    .await;
    let own = s(&app.login("own@x.io", "password-123").await.1["token"]);
    let url = "/api/v1/orgs/keyed/signup";
    let (st, cur) = app.get(url, &own).await;
    assert_eq!(st, 200);
    assert_eq!(
        cur,
        json!({"enabled": false, "key": null, "default_role": "viewer"})
    );
    // Turning it on without a key makes one.
    let (st, on) = app
        .call(
            Method::PUT,
            url,
            Some(&own),
            Some(json!({"enabled": true, "default_role": "editor"})),
        )
        .await;
    assert_eq!(st, 200, "{on}");
    let generated = s(&on["key"]);
    assert!(generated.len() >= 8);
    // A chosen key; validated; unique across orgs; rotatable.
    let put = |body| app.call(Method::PUT, url, Some(&own), Some(body));
    problem(
        &put(json!({"enabled": true, "key": "short"})).await,
        400,
        "invalid_signup_key_format",
    );
    problem(
        &put(json!({"enabled": true, "key": "bad key with spaces"})).await,
        400,
        "invalid_signup_key_format",
    );
    let (st, chosen) = put(json!({"enabled": true, "key": "keyed-Org_2026"})).await;
    assert_eq!(
        (st.as_u16(), chosen["key"].as_str()),
        (200, Some("keyed-Org_2026"))
    );
    let other = app
        .call(
            Method::PUT,
            "/api/v1/orgs/other/signup",
            Some(&own),
            Some(json!({"enabled": true, "key": "keyed-Org_2026"})),
        )
        .await;
    problem(&other, 409, "signup_key_taken");

    let (st, body) = app
        .signup_with("new@y.io", json!({"signup_key": "keyed-Org_2026"}))
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["organization"]["slug"], "keyed");
    assert_eq!(body["organization"].get("my_role"), None);
    let (_, me) = app.get("/api/v1/me", &s(&body["token"])).await;
    assert_eq!(me["memberships"][0]["role"], "editor");
    assert_eq!(me["user"]["home_org_id"], body["organization"]["id"]);
    // Unknown, malformed and disabled keys get the same answer.
    problem(
        &app.signup_with("n2@y.io", json!({"signup_key": "no-such-key-1"}))
            .await,
        403,
        "invalid_signup_key",
    );
    problem(
        &app.signup_with("n2@y.io", json!({"signup_key": "x"})).await,
        403,
        "invalid_signup_key",
    );
    let (_, rotated) = put(json!({"enabled": true, "rotate": true})).await;
    assert_ne!(rotated["key"], "keyed-Org_2026");
    problem(
        &app.signup_with("n2@y.io", json!({"signup_key": "keyed-Org_2026"}))
            .await,
        403,
        "invalid_signup_key",
    );
    put(json!({"enabled": false})).await;
    problem(
        &app.signup_with("n2@y.io", json!({"signup_key": s(&rotated["key"])}))
            .await,
        403,
        "invalid_signup_key",
    );
    // Only admins see the key; strangers do not see the org at all.
    let newcomer = s(&app.login("new@y.io", "password-123").await.1["token"]);
    problem(&app.get(url, &newcomer).await, 403, "forbidden");
    problem(
        &app.get("/api/v1/orgs/other/signup", &newcomer).await,
        404,
        "org_not_found",
    );
    // The key is not in the audit trail.
    let (_, audit) = app
        .get("/api/v1/orgs/keyed/audit?action=signup.update", &own)
        .await;
    assert!(!audit.to_string().contains("keyed-Org_2026"), "{audit}");
}

async fn allow_and_block_lists(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.access_allowed_domains = Some(" Example.com ,aarhus.dk".into());
        s.access_blocked_domains = Some("example.com".into());
        s.access_blocked_emails = Some("mallory@example.com".into());
    })
    .await
    else {
        return;
    };
    // The allow-list wins over the block-list; subdomains match; blocked e-mails lose.
    assert_eq!(app.signup_with("ok@example.com", json!({})).await.0, 201);
    assert_eq!(app.signup_with("ok@sub.aarhus.dk", json!({})).await.0, 201);
    problem(
        &app.signup_with("x@gmail.com", json!({})).await,
        403,
        "domain_not_allowed",
    );
    problem(
        &app.signup_with("MALLORY@example.com", json!({})).await,
        403,
        "email_blocked",
    );
    // The same lists gate login: a user an admin made outside them cannot log in.
    let admin = app.admin_token().await;
    let (st, _) = app
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "out@gmail.com", "password": "password-123", "name": "Out"}),
        )
        .await;
    assert_eq!(st, 201);
    problem(
        &app.login("out@gmail.com", "password-123").await,
        403,
        "domain_not_allowed",
    );
    // ... and invitations.
    let ok = s(&app.login("ok@example.com", "password-123").await.1["token"]);
    let (_, mine) = app.get("/api/v1/orgs", &ok).await;
    let org = s(&mine["items"][0]["id"]);
    problem(
        &app.post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &ok,
            json!({"email": "mallory@example.com"}),
        )
        .await,
        403,
        "email_blocked",
    );
    // Tightening the lists later stops existing sessions too (system admins excepted).
    let svc = app
        .restart_services(|s| s.access_blocked_emails = Some("ok@example.com".into()))
        .await;
    let authz = svc.services.authz();
    let err = authz
        .authenticate(&ok, Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "email_blocked");
    assert!(authz.authenticate(&admin, Default::default()).await.is_ok());
}

async fn allowed_owners_and_orgless_users(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.access_allowed_owner_emails = Some("boss@x.io".into())
    })
    .await
    else {
        return;
    };
    let boss = app.signup("boss@x.io", "Boss").await;
    let (st, body) = app.signup_with("worker@x.io", json!({})).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["organization"], serde_json::Value::Null);
    assert_eq!(body["user"]["home_org_id"], serde_json::Value::Null);
    let worker = s(&body["token"]);
    problem(
        &app.post("/api/v1/orgs", &worker, json!({"name": "Mine"}))
            .await,
        403,
        "org_creation_not_allowed",
    );
    let (_, mine) = app.get("/api/v1/orgs", &worker).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    // Invited, accepts, gains access.
    let (st, inv) = app
        .post(
            &format!("/api/v1/orgs/{}/invitations", boss.org_id),
            &boss.token,
            json!({"email": "worker@x.io", "role": "editor"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    let (st, acc) = app
        .post(
            "/api/v1/invitations/accept",
            &worker,
            json!({"token": inv["token"]}),
        )
        .await;
    assert_eq!(st, 200, "{acc}");
    let (st, org) = app
        .get(&format!("/api/v1/orgs/{}", boss.org_id), &worker)
        .await;
    assert_eq!(st, 200);
    assert_eq!(org["my_role"], "editor");
    let (_, me) = app.get("/api/v1/me", &worker).await;
    assert_eq!(
        me["user"]["home_org_id"],
        boss.org_id.as_str(),
        "the first org joined becomes home"
    );
}

async fn disabled_users_stop_at_once(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin = app.admin_token().await;
    let u = app.signup("d@example.com", "D").await;
    let (_, key) = app
        .post("/api/v1/me/api-keys", &u.token, json!({"name": "k"}))
        .await;
    let key = s(&key["token"]);
    let url = format!("/api/v1/admin/users/{}", u.id);
    let (st, off) = app.patch(&url, &admin, json!({"enabled": false})).await;
    assert_eq!(st, 200, "{off}");
    assert_eq!(off["enabled"], false);
    problem(
        &app.get("/api/v1/me", &u.token).await,
        401,
        "unauthenticated",
    );
    problem(&app.get("/api/v1/me", &key).await, 401, "unauthenticated");
    problem(
        &app.login("d@example.com", "password-123").await,
        403,
        "account_disabled",
    );
    // Enabled again: the key works again (it was never revoked), sessions were ended.
    app.patch(&url, &admin, json!({"enabled": true})).await;
    assert_eq!(app.get("/api/v1/me", &key).await.0, 200);
    problem(
        &app.get("/api/v1/me", &u.token).await,
        401,
        "unauthenticated",
    );
    // Password reset by an admin ends sessions; the new password works.
    let t = s(&app.login("d@example.com", "password-123").await.1["token"]);
    assert_eq!(
        app.patch(&url, &admin, json!({"password": "reset-password-1"}))
            .await
            .0,
        200
    );
    problem(&app.get("/api/v1/me", &t).await, 401, "unauthenticated");
    assert_eq!(app.login("d@example.com", "reset-password-1").await.0, 200);
    problem(
        &app.patch(&url, &admin, json!({})).await,
        400,
        "empty_patch",
    );
    problem(
        &app.patch(&url, &u.token, json!({"enabled": false})).await,
        401,
        "unauthenticated",
    );
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let me_id = s(&me["user"]["id"]);
    problem(
        &app.patch(
            &format!("/api/v1/admin/users/{me_id}"),
            &admin,
            json!({"enabled": false}),
        )
        .await,
        409,
        "cannot_change_self",
    );
    problem(
        &app.patch(
            &format!("/api/v1/admin/users/{}", uuid::Uuid::now_v7()),
            &admin,
            json!({"enabled": false}),
        )
        .await,
        404,
        "user_not_found",
    );
    // Admins create users straight into an org.
    let (st, placed) = app
        .post("/api/v1/admin/users", &admin, json!({"email": "p@example.com", "password": "password-123", "name": "P", "org": u.org_slug, "role": "admin"}))
        .await;
    assert_eq!(st, 201, "{placed}");
    assert_eq!(placed["home_org_id"], u.org_id.as_str());
    let p = s(&app.login("p@example.com", "password-123").await.1["token"]);
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{}", u.org_id), &p).await.1["my_role"],
        "admin"
    );
}

async fn org_admins_create_accounts(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let owner = app.signup("owner@kommune.dk", "Owner").await;
    let org = format!("/api/v1/orgs/{}", owner.org_id);
    problem(
        &app.post(
            &format!("{org}/users"),
            &owner.token,
            json!({"email": "x@kommune.dk", "name": "X"}),
        )
        .await,
        403,
        "domain_not_claimed",
    );
    app.post(
        &format!("{org}/domains"),
        &owner.token,
        json!({"domain": "kommune.dk", "auto_join": false}),
    )
    .await;
    // A pending claim is not enough: the outside audit made accounts in domains it
    // only claimed (gmail.com, a colleague's subdomain) and logged in as their owners.
    problem(
        &app.post(
            &format!("{org}/users"),
            &owner.token,
            json!({"email": "x@kommune.dk", "name": "X", "password": "password-123"}),
        )
        .await,
        403,
        "domain_not_claimed",
    );
    let admin = app.admin_token().await;
    let (st, _) = app
        .post(
            &format!(
                "/api/v1/admin/orgs/{}/domains/kommune.dk/approve",
                owner.org_id
            ),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    // With a password.
    let (st, made) = app.post(&format!("{org}/users"), &owner.token, json!({"email": "a@kommune.dk", "name": "A", "password": "password-123", "role": "editor"})).await;
    assert_eq!(st, 201, "{made}");
    assert_eq!(made["set_password_token"], serde_json::Value::Null);
    let a = s(&app.login("a@kommune.dk", "password-123").await.1["token"]);
    assert_eq!(app.get(&org, &a).await.1["my_role"], "editor");
    // With a one-time set-password link.
    let (st, made) = app
        .post(
            &format!("{org}/users"),
            &owner.token,
            json!({"email": "b@skole.kommune.dk", "name": "B"}),
        )
        .await;
    assert_eq!(st, 201, "{made}");
    let token = s(&made["set_password_token"]);
    assert!(s(&made["set_password_url"]).contains(&token));
    problem(
        &app.login("b@skole.kommune.dk", "anything-at-all").await,
        401,
        "invalid_credentials",
    );
    let set = |t: &str, pw: &str| {
        app.call(
            Method::POST,
            "/api/v1/auth/set-password",
            None,
            Some(json!({"token": t, "password": pw})),
        )
    };
    problem(&set(&token, "short").await, 400, "invalid_password");
    assert_eq!(set(&token, "chosen-password").await.0, 204);
    problem(
        &set(&token, "chosen-password").await,
        404,
        "password_link_not_found",
    );
    let (st, b_session) = app.login("b@skole.kommune.dk", "chosen-password").await;
    assert_eq!(st, 200);
    // The link went to the admin, not to the address: it proves nothing about it.
    let (_, me) = app.get("/api/v1/me", &s(&b_session["token"])).await;
    assert_eq!(me["user"]["email_verified"], false, "{me}");
    // Expired links do not work.
    let (_, made) = app
        .post(
            &format!("{org}/users"),
            &owner.token,
            json!({"email": "c@kommune.dk", "name": "C"}),
        )
        .await;
    app.clock.advance_seconds(4 * 86_400);
    problem(
        &set(&s(&made["set_password_token"]), "chosen-password").await,
        404,
        "password_link_not_found",
    );
    let owner_token = s(&app.login("owner@kommune.dk", "password-123").await.1["token"]);
    problem(
        &app.post(
            &format!("{org}/users"),
            &owner_token,
            json!({"email": "a@kommune.dk", "name": "A"}),
        )
        .await,
        409,
        "email_taken",
    );
    problem(
        &app.post(
            &format!("{org}/users"),
            &owner_token,
            json!({"email": "z@kommune.dk", "name": "Z", "role": "owner"}),
        )
        .await,
        400,
        "invalid_role",
    );
    // System admins may use any e-mail.
    let admin = app.admin_token().await;
    assert_eq!(
        app.post(
            &format!("{org}/users"),
            &admin,
            json!({"email": "any@else.org", "name": "Any", "password": "password-123"})
        )
        .await
        .0,
        201
    );
}

async fn rate_limits_trip_and_recover(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.rate_limits = "on".into()).await else {
        return;
    };
    app.signup("rl@example.com", "RL").await;
    for _ in 0..10 {
        problem(
            &app.login("rl@example.com", "wrong-password").await,
            401,
            "invalid_credentials",
        );
    }
    let res = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "rl@example.com", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "rate_limited"
    );
    // Another account from the same address is not locked out by it.
    app.signup("other@example.com", "Other").await;
    assert_eq!(app.login("other@example.com", "password-123").await.0, 200);
    // Time heals.
    app.clock.advance_seconds(301);
    assert_eq!(app.login("rl@example.com", "password-123").await.0, 200);
}

async fn system_org_is_synced_from_the_environment(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.system.openai_api_key = Some("sk-proj-secret-value-1234".into());
        s.system.openai_base_url = Some("https://api.openai.com/v1".into());
        s.system.openai_models = Some("gpt-4o-mini, gpt-4o".into());
        s.system.default_framework = Some("openwebui".into());
        s.system.default_language_model = Some("gpt-4o-mini".into());
    })
    .await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let (_, sys) = app.get("/api/v1/orgs/system", &admin).await;
    assert_eq!(sys["default_framework"], "openwebui");
    assert_eq!(sys["default_language_model"], "gpt-4o-mini");
    let stored = app.store.system_org().await.unwrap().unwrap();
    let key = stored.config["providers"]["openai"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.starts_with("enc:v1:"), "sealed at rest: {key}");
    let master =
        orgbase_service::secrets::MasterKey::from_env_value(crate::harness::TEST_MASTER_KEY)
            .unwrap();
    let secrets = orgbase_service::secrets::SecretBox::new(&master);
    assert!(!stored.config.to_string().contains("secret-value"));
    assert_eq!(
        secrets
            .open_for(&format!("{}:providers.openai.api_key", stored.id), &key)
            .unwrap(),
        "sk-proj-secret-value-1234"
    );
    assert_eq!(
        stored.config["providers"]["openai"]["models"],
        json!(["gpt-4o-mini", "gpt-4o"])
    );
    // Syncing again changes nothing; the audit trail says what changed, never values.
    let (st, r) = app
        .post("/api/v1/admin/system/sync", &admin, json!({}))
        .await;
    assert_eq!((st.as_u16(), r.clone()), (200, json!({"changed": []})));
    let (_, audit) = app
        .get("/api/v1/admin/audit?action=system.sync", &admin)
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    assert!(!audit.to_string().contains("secret-value"));
    // A restart with some variables unset keeps the stored values; set ones overwrite.
    let svc = app
        .restart_services(|s| {
            s.system.openai_model = Some("gpt-4o".into());
        })
        .await;
    let again = svc.store.system_org().await.unwrap().unwrap();
    assert_eq!(
        again.config["providers"]["openai"]["default_model"],
        "gpt-4o"
    );
    assert_eq!(again.config["providers"]["openai"]["api_key"], key.as_str());
    assert_eq!(again.default_framework.as_deref(), Some("openwebui"));
    // Only system admins sync; the system org cannot be deleted (see orgs.rs).
    let u = app.signup("u@example.com", "U").await;
    problem(
        &app.post("/api/v1/admin/system/sync", &u.token, json!({}))
            .await,
        403,
        "system_admin_required",
    );
}
