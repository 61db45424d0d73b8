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
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Dns(child)
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn dns_proof_verifies_claims(b: Backend) {
    let port = free_udp_port();
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
    assert_eq!(body["organization"]["id"], org["id"]);
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
