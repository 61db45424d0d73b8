//! The OpenID Connect provider (issue 11, ADR 0025): discovery, the key set, signing
//! keys made once, sealed, rotated with the previous key still published. Signatures
//! are checked here with `ring` from the published JWKs alone, not with the library
//! that made them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orgbase_domain::SigningAlg;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, spawn_with};
use crate::story;

pub const TESTS: &[crate::harness::Test] = &[
    story!(the_provider_publishes_its_discovery_and_keys),
    story!(signing_keys_rotate_keeping_the_previous_one),
    story!(nodes_starting_together_make_one_set_of_keys),
    story!(clients_are_registered_by_system_and_org_admins),
    story!(bad_clients_are_refused),
    story!(claims_follow_memberships_and_the_client),
    story!(a_member_signs_in_with_code_and_pkce),
    story!(logout_ends_the_session_and_returns_to_the_client),
    story!(clients_are_managed_in_the_panels),
];

const ISSUER: &str = "https://id.example.org";

async fn fetch(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Value) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let headers = r.headers().clone();
    (headers, r.json().await.unwrap())
}

async fn jwks(app: &TestApp) -> Vec<Value> {
    fetch(app, "/oidc/jwks").await.1["keys"]
        .as_array()
        .unwrap()
        .clone()
}

fn kids(keys: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = keys
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Whether `jwt` carries a valid signature by one of `keys` (found by its `kid`).
fn verifies(jwt: &str, keys: &[Value]) -> bool {
    use ring::signature::{ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    let Some(key) = keys.iter().find(|k| k["kid"] == header["kid"]) else {
        return false;
    };
    assert_eq!(key["alg"], header["alg"]);
    let message = format!("{}.{}", parts[0], parts[1]);
    let signature = b64(parts[2]);
    match key["kty"].as_str().unwrap() {
        "RSA" => RsaPublicKeyComponents {
            n: b64(key["n"].as_str().unwrap()),
            e: b64(key["e"].as_str().unwrap()),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), &signature)
        .is_ok(),
        "OKP" => ring::signature::UnparsedPublicKey::new(&ED25519, b64(key["x"].as_str().unwrap()))
            .verify(message.as_bytes(), &signature)
            .is_ok(),
        other => panic!("unexpected key type {other}"),
    }
}

async fn the_provider_publishes_its_discovery_and_keys(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.public_url = Some(format!("{ISSUER}/"))).await else {
        return;
    };
    let (headers, d) = fetch(&app, "/.well-known/openid-configuration").await;
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert_eq!(d["issuer"], ISSUER, "{d}");
    assert_eq!(d["jwks_uri"], format!("{ISSUER}/oidc/jwks"));
    assert_eq!(
        d["authorization_endpoint"],
        format!("{ISSUER}/oidc/authorize")
    );
    assert_eq!(d["token_endpoint"], format!("{ISSUER}/oidc/token"));
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        json!(["RS256", "EdDSA"])
    );

    // No keys before anyone asks; then one per algorithm, public halves only.
    assert!(app.store.signing_keys().await.unwrap().is_empty());
    let (headers, set) = fetch(&app, "/oidc/jwks").await;
    assert_eq!(headers["content-type"], "application/jwk-set+json");
    let keys = set["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2, "{set}");
    let rsa = keys.iter().find(|k| k["kty"] == "RSA").unwrap();
    assert_eq!(
        (rsa["alg"].as_str(), rsa["use"].as_str()),
        (Some("RS256"), Some("sig"))
    );
    assert_eq!(
        b64(rsa["n"].as_str().unwrap()).len(),
        256,
        "a 2048-bit modulus"
    );
    assert_eq!(rsa["e"], "AQAB");
    let ed = keys.iter().find(|k| k["kty"] == "OKP").unwrap();
    assert_eq!(
        (ed["crv"].as_str(), ed["alg"].as_str()),
        (Some("Ed25519"), Some("EdDSA"))
    );
    assert_eq!(b64(ed["x"].as_str().unwrap()).len(), 32);
    for k in &keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{k}");
        }
    }
    // The same keys next time; stored sealed, with the audit event of their making.
    assert_eq!(kids(&jwks(&app).await), kids(&keys));
    let stored = app.store.signing_keys().await.unwrap();
    assert_eq!(stored.len(), 2);
    for k in &stored {
        assert!(k.private_sealed.starts_with("enc:v1:"), "{}", k.kid);
    }
    let events = app
        .store
        .audit(
            &orgbase_store::AuditFilter {
                action: Some(orgbase_domain::AuditAction::OidcKeysRotate),
                ..Default::default()
            },
            orgbase_domain::PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].details["first"], true);
}

async fn signing_keys_rotate_keeping_the_previous_one(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.public_url = Some(ISSUER.into())).await else {
        return;
    };
    let console = app.restart_services(|_| {}).await;
    let oidc = console.services.oidc();
    let claims = json!({"iss": ISSUER, "sub": "someone", "aud": "a-client"});
    let first_rs = oidc.sign(SigningAlg::Rs256, &claims).await.unwrap();
    let first_ed = oidc.sign(SigningAlg::EdDsa, &claims).await.unwrap();
    let first = jwks(&app).await;
    assert!(verifies(&first_rs, &first) && verifies(&first_ed, &first));
    // A tampered token does not verify.
    let mut parts: Vec<String> = first_rs.split('.').map(String::from).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(br#"{"sub":"someone-else"}"#);
    assert!(!verifies(&parts.join("."), &first));

    // Rotation: a new current key per algorithm; the old ones stay published.
    let r = oidc.rotate_keys(&console.operator).await.unwrap();
    assert_eq!((r.added.len(), r.removed), (2, 0));
    let second = jwks(&app).await;
    assert_eq!(second.len(), 4);
    for k in kids(&first) {
        assert!(kids(&second).contains(&k));
    }
    assert!(verifies(&first_rs, &second) && verifies(&first_ed, &second));
    let next_rs = oidc.sign(SigningAlg::Rs256, &claims).await.unwrap();
    let header: Value = serde_json::from_slice(&b64(next_rs.split('.').next().unwrap())).unwrap();
    assert!(
        r.added.iter().any(|k| header["kid"] == k.as_str()),
        "{header}"
    );
    assert!(verifies(&next_rs, &second));

    // Once more: the first keys are gone, tokens they signed no longer verify.
    let r2 = oidc.rotate_keys(&console.operator).await.unwrap();
    assert_eq!((r2.added.len(), r2.removed), (2, 2));
    let third = jwks(&app).await;
    assert_eq!(third.len(), 4);
    for k in kids(&first) {
        assert!(!kids(&third).contains(&k));
    }
    assert!(!verifies(&first_rs, &third));
    assert!(verifies(&next_rs, &third));

    // A new master key re-seals the private keys; a server with it still signs.
    let new_key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0f0e1d2c3b4a5968778695a4b3c2d1e0f";
    let new = orgbase_service::secrets::SecretBox::new(
        &orgbase_service::secrets::MasterKey::from_env_value(new_key).unwrap(),
    );
    let report = console
        .services
        .system()
        .rotate_master_key(&console.operator, &new, None)
        .await
        .unwrap();
    assert!(report.complete() && report.resealed == 4, "{report:?}");
    let swapped = app
        .restart_services(|s| s.master_key = Some(new_key.into()))
        .await;
    let after = swapped
        .services
        .oidc()
        .sign(SigningAlg::EdDsa, &claims)
        .await
        .unwrap();
    assert!(verifies(&after, &jwks(&app).await));
    // The old key no longer opens them.
    assert!(oidc.sign(SigningAlg::Rs256, &claims).await.is_err());
}

/// Two nodes asked for the key set at once make one key per algorithm between them.
async fn nodes_starting_together_make_one_set_of_keys(b: Backend) {
    let Some(one) = spawn_with(b, |_| {}).await else {
        return;
    };
    let two = one.another_node(|_| {}).await;
    let (a, b2) = tokio::join!(jwks(&one), jwks(&two));
    assert_eq!(kids(&a), kids(&b2));
    assert_eq!(a.len(), 2);
    assert_eq!(one.store.signing_keys().await.unwrap().len(), 2);
}

async fn clients_are_registered_by_system_and_org_admins(b: Backend) {
    let Some(app) = spawn_with(b, |_| {}).await else {
        return;
    };
    let root = app.admin_token().await;
    let ann = app.signup("ann@one.test", "Ann").await;
    let bob = app.signup("bob@two.test", "Bob").await;

    // A platform-wide client: the secret once, only its hash stored.
    let (st, made) = app
        .post(
            "/api/v1/oidc/clients",
            &root,
            json!({"name": "Open WebUI", "redirect_uris": ["https://chat.example.org/oauth/oidc/callback"],
                   "allowed_orgs": [ann.org_id], "first_party": true, "groups": "full",
                   "admin_role": true, "id_token_signed_response_alg": "EdDSA"}),
        )
        .await;
    assert_eq!(st, 201, "{made}");
    let secret = made["client_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("obc_"), "{made}");
    assert!(made["client_id"].as_str().unwrap().starts_with("oc-"));
    assert_eq!(made["confidential"], true);
    assert_eq!(made["org_id"], Value::Null);
    assert_eq!(made["allowed_orgs"], json!([ann.org_id]));
    assert_eq!(
        (
            made["groups"].as_str(),
            made["id_token_signed_response_alg"].as_str()
        ),
        (Some("full"), Some("EdDSA"))
    );
    let id = made["id"].as_str().unwrap().to_string();
    let stored = app
        .store
        .oidc_client(id.parse::<uuid::Uuid>().unwrap().into())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.secret_hash.as_deref(), Some(secret.as_str()));
    assert_eq!(stored.secret_hash.as_deref().map(str::len), Some(64));
    let (st, one) = app.get(&format!("/api/v1/oidc/clients/{id}"), &root).await;
    assert_eq!(st, 200);
    assert!(one.get("client_secret").is_none() && !one.to_string().contains(&secret));
    // The secret is a credential of nothing else.
    assert_eq!(app.get("/api/v1/me", &secret).await.0, 401);

    // A new secret replaces the old one; the listing has the client.
    let (st, again) = app
        .post(
            &format!("/api/v1/oidc/clients/{id}/secret"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(st, 201, "{again}");
    assert_ne!(again["client_secret"], made["client_secret"]);
    let (_, list) = app.get("/api/v1/oidc/clients", &root).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    // An org's own client: only through that org; platform-only fields refused.
    let org_path = format!("/api/v1/orgs/{}/oidc/clients", ann.org_id);
    let (st, own) = app
        .post(
            &org_path,
            &ann.token,
            json!({"name": "Ann's chat", "confidential": false,
            "redirect_uris": ["http://127.0.0.1:8080/oauth/oidc/callback"]}),
        )
        .await;
    assert_eq!(st, 201, "{own}");
    assert_eq!(
        (own["confidential"].clone(), own["client_secret"].clone()),
        (json!(false), Value::Null)
    );
    assert_eq!(own["org_id"], json!(ann.org_id));
    let own_id = own["id"].as_str().unwrap().to_string();
    for body in [
        json!({"first_party": true}),
        json!({"allowed_orgs": [bob.org_id]}),
    ] {
        let (st, e) = app
            .patch(&format!("{org_path}/{own_id}"), &ann.token, body)
            .await;
        assert_eq!(
            (st.as_u16(), e["code"].as_str()),
            (403, Some("system_admin_required")),
            "{e}"
        );
    }
    let (st, e) = app
        .post(
            &format!("{org_path}/{own_id}/secret"),
            &ann.token,
            json!({}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), e["code"].as_str()),
        (400, Some("public_client")),
        "{e}"
    );
    let (st, e) = app
        .patch(
            &format!("{org_path}/{own_id}"),
            &ann.token,
            json!({"confidential": true}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), e["code"].as_str()),
        (400, Some("confidential_fixed")),
        "{e}"
    );
    let (st, renamed) = app
        .patch(
            &format!("{org_path}/{own_id}"),
            &ann.token,
            json!({"name": "Chat", "groups": "orgs",
            "post_logout_redirect_uris": ["http://127.0.0.1:8080/"]}),
        )
        .await;
    assert_eq!(st, 200, "{renamed}");
    assert_eq!(
        (renamed["name"].as_str(), renamed["groups"].as_str()),
        (Some("Chat"), Some("orgs"))
    );

    // Across tenants: another org's admin, and the platform client through an org, are 404.
    let (st, e) = app.get(&format!("{org_path}/{own_id}"), &bob.token).await;
    assert_eq!(
        (st.as_u16(), e["code"].as_str()),
        (404, Some("org_not_found")),
        "{e}"
    );
    let bob_path = format!("/api/v1/orgs/{}/oidc/clients", bob.org_id);
    for path in [format!("{bob_path}/{own_id}"), format!("{org_path}/{id}")] {
        let token = if path.starts_with(&bob_path) {
            &bob.token
        } else {
            &ann.token
        };
        let (st, e) = app.get(&path, token).await;
        assert_eq!(
            (st.as_u16(), e["code"].as_str()),
            (404, Some("oidc_client_not_found")),
            "{path}: {e}"
        );
        let (st, _) = app.delete(&path, token).await;
        assert_eq!(st, 404, "{path}");
    }
    // The org client is not a platform client either.
    let (st, _) = app
        .get(&format!("/api/v1/oidc/clients/{own_id}"), &root)
        .await;
    assert_eq!(st, 404);
    let (_, bobs) = app.get(&bob_path, &bob.token).await;
    assert_eq!(bobs["items"], json!([]));

    // Audited in the org's trail; deleted, gone.
    let (_, audit) = app
        .get(
            &format!(
                "/api/v1/orgs/{}/audit?action=oidc.client.create",
                ann.org_id
            ),
            &ann.token,
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(
        app.delete(&format!("{org_path}/{own_id}"), &ann.token)
            .await
            .0,
        204
    );
    assert_eq!(
        app.get(&format!("{org_path}/{own_id}"), &ann.token).await.0,
        404
    );
}

async fn bad_clients_are_refused(b: Backend) {
    let Some(app) = spawn_with(b, |_| {}).await else {
        return;
    };
    let root = app.admin_token().await;
    let cases = [
        (
            json!({"redirect_uris": ["https://a.example/cb"]}),
            "invalid_name",
        ),
        (json!({"name": "x"}), "invalid_redirect_uri"),
        (
            json!({"name": "x", "redirect_uris": []}),
            "invalid_redirect_uri",
        ),
        (
            json!({"name": "x", "redirect_uris": ["http://a.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://a.example/cb#x"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"name": "x", "redirect_uris": ["javascript:alert(1)"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"name": "x", "redirect_uris": ["/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://a.example/cb"], "groups": "all"}),
            "invalid_groups_style",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://a.example/cb"], "id_token_signed_response_alg": "HS256"}),
            "invalid_signing_alg",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://a.example/cb"], "allowed_orgs": ["no-such-org"]}),
            "org_not_found",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://a.example/cb"], "secret": "mine"}),
            "invalid_body",
        ),
    ];
    for (body, code) in cases {
        let (st, e) = app.post("/api/v1/oidc/clients", &root, body.clone()).await;
        assert_eq!(
            (st.as_u16(), e["code"].as_str()),
            (400, Some(code)),
            "{body}: {e}"
        );
    }
    let many: Vec<String> = (0..21).map(|i| format!("https://a.example/{i}")).collect();
    let (st, e) = app
        .post(
            "/api/v1/oidc/clients",
            &root,
            json!({"name": "x", "redirect_uris": many}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), e["code"].as_str()),
        (400, Some("too_many_redirect_uris")),
        "{e}"
    );
    let (_, list) = app.get("/api/v1/oidc/clients", &root).await;
    assert_eq!(list["items"], json!([]), "nothing half-made");
}

/// `console` is a second set of services on the database, another node as far as the
/// read cache goes: it sees a change made through the server within the cache's bound.
async fn settle() {
    tokio::time::sleep(orgbase_store::cache::FRESH_FOR + std::time::Duration::from_millis(5)).await;
}

/// The organization claims a client gets: the orgs it admits, live ones only, with the
/// roles the client's style asks for, read afresh each time.
async fn claims_follow_memberships_and_the_client(b: Backend) {
    let Some(app) = spawn_with(b, |_| {}).await else {
        return;
    };
    let root = app.admin_token().await;
    let ann = app.signup("ann@one.test", "Ann").await;
    let bob = app.signup("bob@two.test", "Bob").await;
    let carol = app.signup("carol@three.test", "Carol").await;
    app.add_to_org(&bob.org_id, &ann.id, "viewer").await;
    let (st, ws) = app
        .post(
            &format!("/api/v1/orgs/{}/workspaces", ann.org_id),
            &ann.token,
            json!({"name": "Research Team"}),
        )
        .await;
    assert_eq!(st, 201, "{ws}");
    let ws_id = ws["id"].as_str().unwrap();
    let (st, m) = app
        .post(
            &format!("/api/v1/orgs/{}/workspaces/{ws_id}/members", ann.org_id),
            &ann.token,
            json!({"user_id": ann.id, "role": "editor"}),
        )
        .await;
    assert_eq!(st, 201, "{m}");

    let client = |path: String, token: String, body: Value| {
        let app = &app;
        async move {
            let (st, c) = app.post(&path, &token, body).await;
            assert_eq!(st, 201, "{c}");
            app.store
                .oidc_client(
                    c["id"]
                        .as_str()
                        .unwrap()
                        .parse::<uuid::Uuid>()
                        .unwrap()
                        .into(),
                )
                .await
                .unwrap()
                .unwrap()
        }
    };
    let cb = json!(["https://p.example/cb"]);
    let everyone = client(
        "/api/v1/oidc/clients".into(),
        root.clone(),
        json!({"name": "all", "redirect_uris": cb, "groups": "full", "admin_role": true}),
    )
    .await;
    let only_bob = client(
        "/api/v1/oidc/clients".into(),
        root.clone(),
        json!({"name": "bob only", "redirect_uris": cb, "allowed_orgs": [bob.org_slug]}),
    )
    .await;
    let bobs_own = client(
        format!("/api/v1/orgs/{}/oidc/clients", bob.org_id),
        bob.token.clone(),
        json!({"name": "bob's", "redirect_uris": cb, "groups": "orgs"}),
    )
    .await;

    let console = app.restart_services(|_| {}).await;
    let oidc = console.services.oidc();
    let user = |id: &str| {
        let store = app.store.clone();
        let id: uuid::Uuid = id.parse().unwrap();
        async move { store.user_by_id(id.into()).await.unwrap().unwrap() }
    };
    let (a, bs) = (ann.org_slug.as_str(), bob.org_slug.as_str());
    let c = oidc
        .claims_for(&user(&ann.id).await, &everyone)
        .await
        .unwrap()
        .unwrap();
    let mut want = vec![
        a.to_string(),
        format!("{a}:owner"),
        format!("{a}/research-team:editor"),
        bs.to_string(),
        format!("{bs}:viewer"),
    ];
    want.sort();
    let mut got = c.groups.clone();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(c.roles, ["user", "admin"]);
    assert_eq!(c.organization[a]["role"], "owner");
    assert_eq!(c.organization[bs]["id"], json!(bob.org_id));
    let c = oidc
        .claims_for(&user(&ann.id).await, &only_bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.groups, [bs.to_string(), format!("{bs}:viewer")]);
    assert_eq!(c.roles, ["user"]);
    let c = oidc
        .claims_for(&user(&ann.id).await, &bobs_own)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.groups, [bs.to_string()]);
    // Outside the client's orgs: not admitted.
    assert!(
        oidc.claims_for(&user(&carol.id).await, &bobs_own)
            .await
            .unwrap()
            .is_none()
    );

    // A suspended org counts for nothing; a removed membership is gone at once.
    let (st, _) = app
        .post(
            &format!("/api/v1/admin/orgs/{}/suspend", bob.org_id),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    settle().await;
    assert!(
        oidc.claims_for(&user(&ann.id).await, &only_bob)
            .await
            .unwrap()
            .is_none()
    );
    let c = oidc
        .claims_for(&user(&ann.id).await, &everyone)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !c.groups.iter().any(|g| g.starts_with(bs)),
        "{:?}",
        c.groups
    );
    let (st, _) = app
        .post(
            &format!("/api/v1/admin/orgs/{}/reactivate", bob.org_id),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    settle().await;
    assert!(
        oidc.claims_for(&user(&ann.id).await, &only_bob)
            .await
            .unwrap()
            .is_some()
    );
    let (st, _) = app
        .delete(
            &format!("/api/v1/orgs/{}/members/{}", bob.org_id, ann.id),
            &bob.token,
        )
        .await;
    assert_eq!(st, 204);
    assert!(
        oidc.claims_for(&user(&ann.id).await, &only_bob)
            .await
            .unwrap()
            .is_none()
    );

    // A disabled user signs in nowhere.
    let (st, _) = app
        .patch(
            &format!("/api/v1/admin/users/{}", ann.id),
            &root,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(st, 200);
    settle().await;
    assert!(
        oidc.claims_for(&user(&ann.id).await, &everyone)
            .await
            .unwrap()
            .is_none()
    );
}

/// The query parameters of a URL, decoded.
fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace('+', " ");
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' && i + 2 < b.len() {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            (k.to_string(), String::from_utf8(out).unwrap())
        })
        .collect()
}

fn pkce() -> (String, String) {
    use sha2_digest::sha256;
    let verifier = format!("v{}", uuid::Uuid::now_v7().simple()).repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
    (verifier, challenge)
}

mod sha2_digest {
    pub fn sha256(data: &[u8]) -> Vec<u8> {
        ring::digest::digest(&ring::digest::SHA256, data)
            .as_ref()
            .to_vec()
    }
}

async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = app
        .client
        .post(format!("{}/oidc/token", app.base))
        .form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let cache = r.headers().get("cache-control").cloned();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(
        cache.as_ref().map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{status} {body}"
    );
    (status, body)
}

async fn userinfo(app: &TestApp, token: &str) -> (u16, Value) {
    let r = app
        .client
        .get(format!("{}/oidc/userinfo", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The authorization code flow through the real router: sign-in page, consent, code,
/// token (with PKCE and client authentication), ID token verified from the key set,
/// userinfo; and the refusals of RFC 6749 and OpenID Connect Core.
async fn a_member_signs_in_with_code_and_pkce(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.public_url = Some(ISSUER.into())).await else {
        return;
    };
    let root = app.admin_token().await;
    let ann = app.signup("ann@one.test", "Ann").await;
    let (st, c) = app
        .post(
            "/api/v1/oidc/clients",
            &root,
            json!({"name": "Chat", "admin_role": true,
            "redirect_uris": ["https://chat.example.org/cb"]}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (client_id, secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    let (verifier, challenge) = pkce();
    let authorize = format!(
        "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=st-1&nonce=n-1&code_challenge={challenge}&code_challenge_method=S256",
        crate::oidc::enc("https://chat.example.org/cb"),
        crate::oidc::enc("openid email profile organization offline_access"),
    );

    // Malformed requests are shown, never sent back (anyone may register a client: an
    // automatic redirect would make an open redirector).
    let mut browser = crate::web::Browser::new(&app);
    for bad in [
        authorize.replace("response_type=code", "response_type=token"),
        authorize.replace("code_challenge_method=S256", "code_challenge_method=plain"),
        authorize.replace("scope=openid", "scope=profile"),
        format!("{authorize}&max_age=soon"),
    ] {
        let a = browser.get(&bad).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
        assert_eq!(a.location(), "", "{bad}");
    }

    // Signed out: to the sign-in page, and back.
    let a = browser.get(&authorize).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(
        a.location()
            .starts_with("/sign-in?next=%2Foidc%2Fauthorize"),
        "{}",
        a.location()
    );
    let signin = browser.get(a.location()).await;
    assert!(
        signin.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("form-action 'self' https://chat.example.org")
    );
    let next = query_of(a.location())["next"].clone();
    let csrf = signin.csrf();
    let done = browser
        .post_raw(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "ann@one.test"),
                ("password", "password-123"),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), next);

    // The consent page, then the code.
    let consent = browser.get(&next).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("Chat") && consent.body.contains("your e-mail address"));
    assert!(
        consent.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("https://chat.example.org")
    );
    let csrf = consent.csrf();
    let sent = query_of(&next);
    let mut pairs: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.push(("csrf", &csrf));
    pairs.push(("decision", "allow"));
    let back = browser.post_raw("/oidc/authorize", &pairs).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let to = back.location().to_string();
    assert!(to.starts_with("https://chat.example.org/cb?code="), "{to}");
    let q = query_of(&to);
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st-1", ISSUER));
    let code = q["code"].clone();

    // Refusals at the token endpoint; none of them uses the code up.
    let cb = "https://chat.example.org/cb";
    let form = |code: &str, verifier: &str, redirect: &str| -> Vec<(String, String)> {
        vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("code_verifier".into(), verifier.into()),
            ("redirect_uri".into(), redirect.into()),
        ]
    };
    let send = |f: Vec<(String, String)>, basic: Option<(String, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> =
                f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            token_request(
                app,
                &pairs,
                basic.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            )
            .await
        }
    };
    let good = Some((client_id.clone(), secret.clone()));
    let (st, e) = send(
        form(&code, &verifier, cb),
        Some((client_id.clone(), "obc_wrong".into())),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );
    let (st, e) = send(form(&code, &verifier, cb), None).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );
    let (st, e) = send(
        form(&code, "wrong-verifier-wrong-verifier-wrong-verifier-1", cb),
        good.clone(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (st, e) = send(form("nonsense", &verifier, cb), good.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let mut unsupported = form(&code, &verifier, cb);
    unsupported[0].1 = "password".into();
    let (st, e) = send(unsupported, good.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("unsupported_grant_type")),
        "{e}"
    );

    let (st, e) = send(
        form(&code, &verifier, "https://chat.example.org/other"),
        good.clone(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    // A refused exchange leaves the code as it was: the same code, sent properly.
    let (st, t) = send(form(&code, &verifier, cb), good.clone()).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert!(
        t["refresh_token"].is_string(),
        "offline_access gives a refresh token"
    );
    let id_token = t["id_token"].as_str().unwrap();
    assert!(verifies(id_token, &jwks(&app).await));
    let claims: Value = serde_json::from_slice(&b64(id_token.split('.').nth(1).unwrap())).unwrap();
    assert_eq!(
        (
            claims["iss"].as_str(),
            claims["aud"].as_str(),
            claims["nonce"].as_str()
        ),
        (Some(ISSUER), Some(client_id.as_str()), Some("n-1"))
    );
    assert_eq!(claims["sub"], json!(ann.id));
    assert_eq!(claims["email"], "ann@one.test");
    assert_eq!(claims["name"], "Ann");
    assert_eq!(claims["roles"], json!(["user", "admin"]));
    assert_eq!(
        claims["groups"],
        json!([ann.org_slug, format!("{}:owner", ann.org_slug)])
    );
    assert_eq!(claims["organization"][&ann.org_slug]["role"], "owner");
    // The code again: refused, and what it gave is revoked.
    let (st, e) = send(form(&code, &verifier, cb), good.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (st, _) = userinfo(&app, t["access_token"].as_str().unwrap()).await;
    assert_eq!(st, 401, "a reused code revokes its tokens");

    // Another round; userinfo answers, and follows the account.
    let again = browser.get(&next).await;
    let code = query_of(again.location())["code"].clone();
    let (st, t) = send(form(&code, &verifier, cb), good.clone()).await;
    assert_eq!(st, 200, "{t}");
    let access = t["access_token"].as_str().unwrap().to_string();
    let (st, info) = userinfo(&app, &access).await;
    assert_eq!(st, 200, "{info}");
    assert_eq!(
        (info["sub"].clone(), info["email"].clone()),
        (json!(ann.id), json!("ann@one.test"))
    );
    assert_eq!(userinfo(&app, "not-a-token").await.0, 401);

    // Refresh: rotated once; the rotated one presented again revokes the family.
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let r = |token: String| {
        vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".to_string(), token),
        ]
    };
    let (st, t2) = send(r(refresh.clone()), good.clone()).await;
    assert_eq!(st, 200, "{t2}");
    assert_ne!(t2["refresh_token"], json!(refresh));
    let (st, e) = send(r(refresh.clone()), good.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (st, e) = send(
        r(t2["refresh_token"].as_str().unwrap().to_string()),
        good.clone(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "the family is revoked: {e}"
    );

    // Revocation (RFC 7009): an access token alone; a refresh token with its family.
    let revoke = |token: String, basic: Option<(String, String)>| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .post(format!("{}/oidc/revoke", app.base))
                .form(&[("token", token.as_str())]);
            if let Some((id, secret)) = basic {
                req = req.basic_auth(id, Some(secret));
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    let again = browser.get(&next).await;
    let code = query_of(again.location())["code"].clone();
    let (_, t4) = send(form(&code, &verifier, cb), good.clone()).await;
    let access4 = t4["access_token"].as_str().unwrap().to_string();
    assert_eq!(revoke(access4.clone(), good.clone()).await, 200);
    assert_eq!(userinfo(&app, &access4).await.0, 401);
    let (st, t5) = send(
        r(t4["refresh_token"].as_str().unwrap().to_string()),
        good.clone(),
    )
    .await;
    assert_eq!(
        st, 200,
        "revoking an access token leaves the refresh token: {t5}"
    );
    assert_eq!(
        revoke(
            t5["refresh_token"].as_str().unwrap().to_string(),
            good.clone()
        )
        .await,
        200
    );
    assert_eq!(
        userinfo(&app, t5["access_token"].as_str().unwrap()).await.0,
        401
    );
    let (st, e) = send(
        r(t5["refresh_token"].as_str().unwrap().to_string()),
        good.clone(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert_eq!(revoke("unknown".into(), good.clone()).await, 200);
    assert_eq!(
        revoke(
            "unknown".into(),
            Some((client_id.clone(), "obc_bad".into()))
        )
        .await,
        401
    );

    // An expired code (60 seconds): invalid_grant.
    let again = browser.get(&next).await;
    let code = query_of(again.location())["code"].clone();
    app.clock.advance_seconds(61);
    let (st, e) = send(form(&code, &verifier, cb), good.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert!(
        e["error_description"].as_str().unwrap().contains("expired"),
        "{e}"
    );

    // A disabled user: userinfo refuses at once.
    let again = browser.get(&next).await;
    let code = query_of(again.location())["code"].clone();
    let (_, t3) = send(form(&code, &verifier, cb), good.clone()).await;
    let (st, _) = app
        .patch(
            &format!("/api/v1/admin/users/{}", ann.id),
            &root,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = userinfo(&app, t3["access_token"].as_str().unwrap()).await;
    assert_eq!(st, 401);
    let (st, e) = send(r(t3["refresh_token"].as_str().unwrap().to_string()), good).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    orgbase_service::oidc::urlencode(s)
}

/// RP-initiated logout: with a valid `id_token_hint` for the signed-in user, at once and
/// back to a registered URI with `state`; otherwise a confirmation first, and no
/// redirect to an unregistered URI.
async fn logout_ends_the_session_and_returns_to_the_client(b: Backend) {
    let Some(app) = spawn_with(b, |s| s.public_url = Some(ISSUER.into())).await else {
        return;
    };
    let root = app.admin_token().await;
    let ann = app.signup("ann@one.test", "Ann").await;
    let (st, c) = app
        .post(
            "/api/v1/oidc/clients",
            &root,
            json!({"name": "Chat", "first_party": true,
            "redirect_uris": ["https://chat.example.org/cb"],
            "post_logout_redirect_uris": ["https://chat.example.org/bye"],
            "id_token_signed_response_alg": "EdDSA"}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (client_id, secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    let mut browser = crate::web::Browser::new(&app);
    browser.sign_in("ann@one.test", "password-123").await;
    let (verifier, challenge) = pkce();
    let a = browser
        .get(&format!(
            "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&code_challenge={challenge}&code_challenge_method=S256",
            enc("https://chat.example.org/cb")
        ))
        .await;
    assert_eq!(a.status, 303, "first party: no consent page: {}", a.body);
    let code = query_of(a.location())["code"].clone();
    let (st, t) = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://chat.example.org/cb"),
            ("code_verifier", &verifier),
        ],
        Some((&client_id, &secret)),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let id_token = t["id_token"].as_str().unwrap().to_string();
    assert!(verifies(&id_token, &jwks(&app).await));
    let session = browser.session().unwrap().clone();
    assert_eq!(app.get("/api/v1/me", &session).await.0, 200);

    // No hint, or a forged one: asked first, still signed in.
    let bye = enc("https://chat.example.org/bye");
    for hint in ["", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let page = browser
            .get(&format!(
                "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={bye}"
            ))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Sign out of Orgbase?"), "{}", page.body);
        assert_eq!(app.get("/api/v1/me", &session).await.0, 200);
    }
    // The hint of this user: signed out at once, back to the registered URI.
    let out = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri={bye}&state=s-2"
        ))
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(out.location(), "https://chat.example.org/bye?state=s-2");
    assert!(browser.session().is_none());
    assert_eq!(app.get("/api/v1/me", &session).await.0, 401);
    // An unregistered URI is never a redirect.
    let out = browser
        .get(&format!(
            "/oidc/logout?client_id={client_id}&post_logout_redirect_uri={}",
            enc("https://evil.example/")
        ))
        .await;
    assert_eq!(out.status, 200);
    assert!(out.body.contains("You are signed out"));
    // The hint of a client that was deleted signs nobody out without asking.
    browser.sign_in("ann@one.test", "password-123").await;
    let session = browser.session().unwrap().clone();
    let (st, _) = app
        .delete(
            &format!("/api/v1/oidc/clients/{}", c["id"].as_str().unwrap()),
            &root,
        )
        .await;
    assert_eq!(st, 204);
    let page = browser
        .get(&format!("/oidc/logout?id_token_hint={id_token}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Sign out of Orgbase?") && page.body.contains("An application"),
        "{}",
        page.body
    );
    assert_eq!(app.get("/api/v1/me", &session).await.0, 200);
    let _ = ann;
}

/// `/admin/oidc` and `/org-admin/{org}/oidc`: the same clients as the API, the secret
/// shown once, and the same proofs (another org's admin gets a 404 page).
async fn clients_are_managed_in_the_panels(b: Backend) {
    let Some(app) = spawn_with(b, |_| {}).await else {
        return;
    };
    let ann = app.signup("ann@one.test", "Ann").await;
    let _bob = app.signup("bob@two.test", "Bob").await;
    let mut root = crate::web::Browser::new(&app);
    root.sign_in(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD)
        .await;
    let page = root.get("/admin/oidc").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No clients yet."));
    let made = root
        .submit(
            "/admin/oidc",
            "/admin/oidc",
            &[
                ("name", "Chat"),
                (
                    "redirect_uris",
                    "https://chat.example.org/cb\r\nhttps://chat.example.org/cb2",
                ),
                ("confidential", "1"),
                ("groups", "roles"),
                ("admin_role", "1"),
                ("alg", "RS256"),
                ("first_party", "1"),
                ("allowed_orgs", &ann.org_slug),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let secret = made.input_value("client-secret");
    assert!(secret.starts_with("obc_"), "{secret}");
    let (_, list) = app
        .get("/api/v1/oidc/clients", &app.admin_token().await)
        .await;
    let c = &list["items"][0];
    assert_eq!(
        c["redirect_uris"],
        json!([
            "https://chat.example.org/cb",
            "https://chat.example.org/cb2"
        ])
    );
    assert_eq!(
        (c["first_party"].clone(), c["admin_role"].clone()),
        (json!(true), json!(true))
    );
    let again = root.get("/admin/oidc").await;
    assert!(again.body.contains(c["client_id"].as_str().unwrap()) && !again.body.contains(&secret));
    // A bad redirect URI: the form says why, nothing is made.
    let bad = root
        .submit(
            "/admin/oidc",
            "/admin/oidc",
            &[("name", "Bad"), ("redirect_uris", "http://evil.example/cb")],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("plain http only on a loopback host"),
        "{}",
        bad.body
    );

    // The org admin's page: their org's clients only; another org's admin: 404.
    let mut owner = crate::web::Browser::new(&app);
    owner.sign_in("ann@one.test", "password-123").await;
    let base = format!("/org-admin/{}/oidc", ann.org_slug);
    let page = owner.get(&base).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("Chat") && !page.body.contains("First party"));
    let made = owner
        .submit(
            &base,
            &base,
            &[
                ("name", "Ann's chat"),
                ("redirect_uris", "http://127.0.0.1:8080/cb"),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert!(made.body.contains("It is public"), "{}", made.body);
    let mut other = crate::web::Browser::new(&app);
    other.sign_in("bob@two.test", "password-123").await;
    assert_eq!(other.get(&base).await.status, 404);
    // Deleted through the panel.
    let (_, own) = app
        .get(
            &format!("/api/v1/orgs/{}/oidc/clients", ann.org_id),
            &ann.token,
        )
        .await;
    let id = own["items"][0]["id"].as_str().unwrap().to_string();
    let gone = owner
        .submit(&base, &format!("{base}/{id}/delete"), &[])
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let (_, own) = app
        .get(
            &format!("/api/v1/orgs/{}/oidc/clients", ann.org_id),
            &ann.token,
        )
        .await;
    assert_eq!(own["items"], json!([]));
}
