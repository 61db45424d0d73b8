//! Proof of domain (SPEC §4): a claim is pending until its TXT record is found by a real
//! DNS server (dnsmasq, started by the story) or a system admin approves it; only a
//! verified claim acts. Regression stories for the outside audit's findings.

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::harness::{Backend, Test, find_program, problem, s, spawn_with};
use crate::{story, story_needing};
use orgbase::settings::SignupModeArg;

/// The tests of this module, in order (see `harness::Test`).
pub const TESTS: &[Test] = &[
    story_needing!("dnsmasq", dns_proof_verifies_claims),
    story!(public_providers_and_other_orgs_subdomains_are_refused),
    story!(claims_per_org_are_limited),
    story!(an_address_counts_only_once_proven),
    story!(backfill_adds_proven_orgless_users),
];

/// A dnsmasq serving the given TXT records on 127.0.0.1:port; stopped when dropped.
struct Dns(Child);

impl Dns {
    fn start(port: u16, records: &[(String, String)]) -> Self {
        let program = find_program("dnsmasq").expect("dnsmasq (Debian: dnsmasq-base) is needed");
        let mut cmd = Command::new(program);
        cmd.args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--pid-file=",
            "--user=root",
            &format!("--port={port}"),
        ]);
        for (name, value) in records {
            cmd.arg(format!("--txt-record={name},{value}"));
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        // Ready when it answers on its port.
        let mut ready = false;
        for _ in 0..100 {
            if UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| {
                    s.connect(("127.0.0.1", port))?;
                    s.set_read_timeout(Some(std::time::Duration::from_millis(50)))?;
                    // A minimal query for `a.` type A.
                    s.send(&[0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 0, 0, 1, 0, 1])?;
                    let mut buf = [0u8; 512];
                    s.recv(&mut buf)
                })
                .is_ok()
            {
                ready = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let mut dns = Dns(child);
        assert!(
            ready && dns.0.try_wait().ok().flatten().is_none(),
            "dnsmasq did not start on port {port}"
        );
        dns
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free for both UDP and TCP (dnsmasq binds both), outside the ephemeral range
/// the other tests' servers take theirs from, so nothing grabs it before dnsmasq does.
fn free_dns_port() -> u16 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    for i in 0..2000u32 {
        let port = 20_000 + ((seed.wrapping_add(i.wrapping_mul(7919))) % 10_000) as u16;
        if UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port for dnsmasq");
}

async fn dns_proof_verifies_claims(b: Backend) {
    let port = free_dns_port();
    let Some(app) = spawn_with(b, |s| {
        s.dns_servers = Some(format!("127.0.0.1:{port}"));
        s.signup_mode = SignupModeArg::Restricted;
    })
    .await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let (st, _) = app
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "it@proof.test", "password": "password-123", "name": "IT"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, org) = app
        .post(
            "/api/v1/admin/orgs",
            &admin,
            json!({"name": "Proof", "owner_email": "it@proof.test"}),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let it = s(&app.login("it@proof.test", "password-123").await.1["token"]);
    let domains = format!("/api/v1/orgs/{}/domains", s(&org["id"]));
    let (st, good) = app
        .post(
            &domains,
            &it,
            json!({"domain": "proof.test", "role": "editor"}),
        )
        .await;
    assert_eq!(st, 201, "{good}");
    assert_eq!(good["status"], "pending");
    let (st, bad) = app
        .post(&domains, &it, json!({"domain": "other.test"}))
        .await;
    assert_eq!(st, 201, "{bad}");

    // Pending: sign-ups of the domain join nobody.
    problem(
        &app.signup_with("early@proof.test", json!({})).await,
        403,
        "signup_closed",
    );

    // DNS publishes the right value for proof.test, a wrong one for other.test.
    let _dns = Dns::start(
        port,
        &[
            (
                s(&good["txt_record"]["name"]),
                s(&good["txt_record"]["value"]),
            ),
            (
                s(&bad["txt_record"]["name"]),
                "orgbase-verification=not-the-token".into(),
            ),
        ],
    );
    let (st, verified) = app
        .post(&format!("{domains}/proof.test/verify"), &it, json!({}))
        .await;
    assert_eq!(st, 200, "{verified}");
    assert_eq!(verified["status"], "verified");
    assert!(verified["verified_at"].is_string());
    problem(
        &app.post(&format!("{domains}/other.test/verify"), &it, json!({}))
            .await,
        409,
        "domain_not_verified",
    );
    problem(
        &app.post(&format!("{domains}/absent.test/verify"), &it, json!({}))
            .await,
        404,
        "domain_not_found",
    );
    let (_, events) = app
        .get(
            &format!("/api/v1/orgs/{}/audit?action=domain.verify", s(&org["id"])),
            &it,
        )
        .await;
    assert_eq!(events["items"][0]["details"]["by"], "dns", "{events}");

    // Verified: the domain's sign-ups join the org, with the claim's role.
    let (st, body) = app.signup_with("later@proof.test", json!({})).await;
    assert_eq!(st, 201, "{body}");
    let verified = app.verify_email("later@proof.test").await;
    assert_eq!(verified["organization"]["id"], org["id"]);
    // The unproven claim still does nothing.
    problem(
        &app.signup_with("x@other.test", json!({})).await,
        403,
        "signup_closed",
    );
}

async fn public_providers_and_other_orgs_subdomains_are_refused(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.public_email_domains = Some("corp-mail.test".into());
    })
    .await
    else {
        return;
    };
    let aarhus = app.signup("it@aarhus.test", "Aarhus").await;
    let eve = app.signup("eve@evil.test", "Eve").await;
    let admin = app.admin_token().await;
    // The audit claimed gmail.com and then made accounts there: refused outright, and
    // so are subdomains of providers and the configured extra ones.
    for d in ["gmail.com", "GMAIL.com", "mx.outlook.com", "corp-mail.test"] {
        problem(
            &app.post(
                &format!("/api/v1/orgs/{}/domains", eve.org_id),
                &eve.token,
                json!({"domain": d}),
            )
            .await,
            400,
            "public_email_domain",
        );
    }
    // Aarhus proves aarhus.test (a system admin approves it here).
    let (st, _) = app
        .post(
            &format!("/api/v1/orgs/{}/domains", aarhus.org_id),
            &aarhus.token,
            json!({"domain": "aarhus.test"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, _) = app
        .post(
            &format!(
                "/api/v1/admin/orgs/{}/domains/aarhus.test/approve",
                aarhus.org_id
            ),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    // Eve may not claim a subdomain of it (the audit's it.aarhus.dk), nor the domain.
    problem(
        &app.post(
            &format!("/api/v1/orgs/{}/domains", eve.org_id),
            &eve.token,
            json!({"domain": "it.aarhus.test"}),
        )
        .await,
        409,
        "parent_domain_claimed",
    );
    problem(
        &app.post(
            &format!("/api/v1/orgs/{}/domains", eve.org_id),
            &eve.token,
            json!({"domain": "aarhus.test"}),
        )
        .await,
        409,
        "domain_taken",
    );
    // ... and cannot make accounts there or land sign-ups in her org.
    problem(
        &app.post(
            &format!("/api/v1/orgs/{}/users", eve.org_id),
            &eve.token,
            json!({"email": "boss@it.aarhus.test", "name": "Boss", "password": "attacker-chosen"}),
        )
        .await,
        403,
        "domain_not_claimed",
    );
    // A system admin may decide otherwise: the claim is made (and still pending).
    let (st, d) = app
        .post(
            &format!("/api/v1/orgs/{}/domains", eve.org_id),
            &admin,
            json!({"domain": "it.aarhus.test"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    assert_eq!(d["status"], "pending");
    // ... and approve it: then the subdomain's accounts are Eve's org's to make, no
    // longer the parent's owner's (found by the second outside audit).
    let (st, _) = app
        .post(
            &format!(
                "/api/v1/admin/orgs/{}/domains/it.aarhus.test/approve",
                eve.org_id
            ),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    problem(
        &app.post(
            &format!("/api/v1/orgs/{}/users", aarhus.org_id),
            &aarhus.token,
            json!({"email": "q@it.aarhus.test", "name": "Q", "password": "password-123"}),
        )
        .await,
        403,
        "domain_not_claimed",
    );
    let (st, made) = app
        .post(
            &format!("/api/v1/orgs/{}/users", eve.org_id),
            &eve.token,
            json!({"email": "q@it.aarhus.test", "name": "Q", "password": "password-123"}),
        )
        .await;
    assert_eq!(st, 201, "{made}");
}

async fn claims_per_org_are_limited(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.max_domains_per_org = 2).await else {
        return;
    };
    let owner = app.signup("o@example.com", "O").await;
    let path = format!("/api/v1/orgs/{}/domains", owner.org_id);
    for d in ["a.example", "b.example"] {
        assert_eq!(
            app.post(&path, &owner.token, json!({"domain": d})).await.0,
            201
        );
    }
    problem(
        &app.post(&path, &owner.token, json!({"domain": "c.example"}))
            .await,
        409,
        "too_many_domains",
    );
}

/// Found by the outside audit: anyone could sign up as someone@aarhus.dk without owning
/// the mailbox and land in that org. Now the org takes them in only once the address is
/// proven by the link mailed to it.
async fn an_address_counts_only_once_proven(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.signup_mode = SignupModeArg::Restricted).await else {
        return;
    };
    let admin = app.admin_token().await;
    let (st, org) = app
        .post(
            "/api/v1/admin/orgs",
            &admin,
            json!({"name": "Aarhus", "owner_email": "root@orgbase.test"}),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    let org_id = s(&org["id"]);
    app.post(
        &format!("/api/v1/orgs/{org_id}/domains"),
        &admin,
        json!({"domain": "aarhus.test", "role": "editor"}),
    )
    .await;
    let (st, _) = app
        .post(
            &format!("/api/v1/admin/orgs/{org_id}/domains/aarhus.test/approve"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);

    // Someone signs up with an address of the domain: an account, but no org yet.
    let (st, body) = app.signup_with("boss@aarhus.test", json!({})).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["organization"], serde_json::Value::Null);
    let boss = s(&body["token"]);
    problem(
        &app.get(&format!("/api/v1/orgs/{org_id}"), &boss).await,
        404,
        "org_not_found",
    );
    let (_, me) = app.get("/api/v1/me", &boss).await;
    assert_eq!(me["user"]["email_verified"], false);
    assert!(me["memberships"].as_array().unwrap().is_empty());

    // A wrong link proves nothing; the mailed one proves the address, once.
    problem(
        &app.call(
            reqwest::Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": "obe_not-a-real-token"})),
        )
        .await,
        404,
        "verification_link_not_found",
    );
    let token = app
        .mailed_token("boss@aarhus.test", "email_verification")
        .await
        .unwrap();
    let (st, verified) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(st, 200, "{verified}");
    assert_eq!(verified["organization"]["id"], org["id"]);
    assert_eq!(verified["user"]["home_org_id"], org["id"]);
    problem(
        &app.call(
            reqwest::Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": token})),
        )
        .await,
        404,
        "verification_link_not_found",
    );
    let (_, me) = app.get("/api/v1/me", &boss).await;
    assert_eq!(me["user"]["email_verified"], true);
    assert_eq!(me["memberships"][0]["role"], "editor");
    problem(
        &app.post("/api/v1/auth/verify-email/resend", &boss, json!({}))
            .await,
        409,
        "email_already_verified",
    );

    // A link expires (24 hours); a new one can be asked for.
    let (st, body) = app.signup_with("late@aarhus.test", json!({})).await;
    assert_eq!(st, 201, "{body}");
    let late = s(&body["token"]);
    let old = app
        .mailed_token("late@aarhus.test", "email_verification")
        .await
        .unwrap();
    app.clock.advance_seconds(3 * 24 * 3600);
    let late = if app.get("/api/v1/me", &late).await.0 == 200 {
        late
    } else {
        s(&app.login("late@aarhus.test", "password-123").await.1["token"])
    };
    problem(
        &app.call(
            reqwest::Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": old})),
        )
        .await,
        404,
        "verification_link_not_found",
    );
    let (st, _) = app
        .post("/api/v1/auth/verify-email/resend", &late, json!({}))
        .await;
    assert_eq!(st, 204);
    let verified = app.verify_email("late@aarhus.test").await;
    assert_eq!(verified["organization"]["id"], org["id"]);

    // Without mail the invitation link is shown to the inviting admin: signing up with
    // it proves nothing about the address (the outside audit minted "proven" addresses
    // for a victim's domain this way and backfilled them into the victim's org).
    let (st, inv) = app
        .post(
            &format!("/api/v1/orgs/{org_id}/invitations"),
            &admin,
            json!({"email": "invited@elsewhere.test"}),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    let (st, body) = app
        .signup_with(
            "invited@elsewhere.test",
            json!({"invitation_token": s(&inv["token"])}),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["user"]["email_verified"], false);
}

/// A domain proven after its people signed up: backfill adds those who proved their
/// address and belong to no org (a dry run lists them first), with one audit event.
async fn backfill_adds_proven_orgless_users(b: Backend) {
    let Some(app) = spawn_with(b, |s| {
        s.signup_mode = SignupModeArg::Open;
        // Nobody but the admin may own an org: sign-ups are org-less.
        s.access_allowed_owner_emails = Some("root@orgbase.test".into());
    })
    .await
    else {
        return;
    };
    for email in ["a@late.test", "b@sub.late.test", "unproven@late.test"] {
        let (st, body) = app.signup_with(email, json!({})).await;
        assert_eq!(st, 201, "{body}");
        assert_eq!(body["organization"], serde_json::Value::Null);
    }
    app.verify_email("a@late.test").await;
    app.verify_email("b@sub.late.test").await;
    let admin = app.admin_token().await;
    let (_, org) = app
        .post("/api/v1/orgs", &admin, json!({"name": "Late"}))
        .await;
    let org_id = s(&org["id"]);
    let domains = format!("/api/v1/orgs/{org_id}/domains");
    app.post(
        &domains,
        &admin,
        json!({"domain": "late.test", "role": "editor"}),
    )
    .await;
    // Not before the claim is proven.
    problem(
        &app.post(
            &format!("{domains}/late.test/backfill"),
            &admin,
            json!({"dry_run": true}),
        )
        .await,
        409,
        "domain_not_verified",
    );
    app.post(
        &format!("/api/v1/admin/orgs/{org_id}/domains/late.test/approve"),
        &admin,
        json!({}),
    )
    .await;
    let (st, dry) = app
        .post(
            &format!("{domains}/late.test/backfill"),
            &admin,
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(st, 200, "{dry}");
    assert_eq!(dry["count"], 2, "{dry}");
    let mut emails: Vec<String> = dry["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| s(&u["email"]))
        .collect();
    emails.sort();
    assert_eq!(emails, ["a@late.test", "b@sub.late.test"]);
    let (_, members) = app
        .get(&format!("/api/v1/orgs/{org_id}/members"), &admin)
        .await;
    assert_eq!(
        members["items"].as_array().unwrap().len(),
        1,
        "a dry run adds nobody"
    );

    let (st, done) = app
        .post(
            &format!("{domains}/late.test/backfill"),
            &admin,
            json!({"dry_run": false}),
        )
        .await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["count"], 2);
    let (_, members) = app
        .get(&format!("/api/v1/orgs/{org_id}/members"), &admin)
        .await;
    assert_eq!(members["items"].as_array().unwrap().len(), 3, "{members}");
    let (_, events) = app
        .get(
            &format!("/api/v1/orgs/{org_id}/audit?action=domain.backfill"),
            &admin,
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events["items"][0]["details"]["added"], 2);
    let (_, again) = app
        .post(
            &format!("{domains}/late.test/backfill"),
            &admin,
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(again["count"], 0, "{again}");
}
