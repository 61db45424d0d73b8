//! The OpenID Connect provider's clients, codes, tokens and consents.

use std::sync::Arc;

use orgbase_domain::{
    GroupsStyle, OidcClient, OidcClientId, OidcCode, OidcToken, OidcTokenKind, RedirectUri,
    SigningAlg,
};
use orgbase_store::Store;

use crate::harness::{Story, stored_user, t0};
use crate::story;

pub const STORIES: &[Story] = &[story!(codes_are_used_once_and_families_revoked_together)];

async fn codes_are_used_once_and_families_revoked_together(s: Arc<dyn Store>) {
    let u = stored_user(&s, "ann@example.com").await;
    let client = OidcClient {
        id: OidcClientId::new(t0()),
        client_id: "oc-test".into(),
        name: "Test".into(),
        secret_hash: None,
        redirect_uris: vec![RedirectUri::parse("https://p.example/cb", "f").unwrap()],
        post_logout_redirect_uris: vec![],
        org_id: None,
        allowed_orgs: vec![],
        first_party: false,
        groups: GroupsStyle::Roles,
        admin_role: false,
        id_token_alg: SigningAlg::Rs256,
        created_by: Some(u.id),
        created_at: t0(),
        updated_at: t0(),
    };
    let code = OidcCode {
        code_hash: "h-code".into(),
        client: client.id,
        user_id: u.id,
        redirect_uri: "https://p.example/cb".into(),
        scope: "openid email".into(),
        nonce: Some("n".into()),
        code_challenge: Some("c".into()),
        auth_time: t0(),
        created_at: t0(),
        expires_at: t0().plus_seconds(60),
        used_at: None,
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_oidc_client(&client).await.unwrap();
    tx.insert_oidc_code(&code).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.oidc_client_by_client_id("oc-test").await.unwrap(),
        Some(client.clone())
    );

    // Used once: the second take says so, and returns what was stored.
    let mut tx = s.begin().await.unwrap();
    let (got, first) = tx.take_oidc_code("h-code", t0()).await.unwrap().unwrap();
    assert!(first);
    assert_eq!(got, code);
    assert!(tx.take_oidc_code("nope", t0()).await.unwrap().is_none());
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let (again, first) = tx.take_oidc_code("h-code", t0()).await.unwrap().unwrap();
    assert!(!first);
    assert_eq!(again.used_at, Some(t0()));
    drop(tx);

    // A refresh token rotates once; its family is revoked together.
    let family = uuid::Uuid::now_v7();
    let token = |hash: &str, kind| OidcToken {
        token_hash: hash.into(),
        kind,
        family,
        client: client.id,
        user_id: u.id,
        scope: "openid".into(),
        auth_time: t0(),
        created_at: t0(),
        expires_at: t0().plus_seconds(3600),
        used_at: None,
        revoked_at: None,
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_oidc_token(&token("h-access", OidcTokenKind::Access))
        .await
        .unwrap();
    tx.insert_oidc_token(&token("h-refresh", OidcTokenKind::Refresh))
        .await
        .unwrap();
    assert!(tx.use_oidc_token("h-refresh", t0()).await.unwrap());
    assert!(
        !tx.use_oidc_token("h-refresh", t0()).await.unwrap(),
        "rotated once"
    );
    assert!(
        !tx.use_oidc_token("h-access", t0().plus_seconds(3600))
            .await
            .unwrap(),
        "expired"
    );
    assert_eq!(tx.revoke_oidc_family(family, t0()).await.unwrap(), 2);
    tx.upsert_oidc_consent(u.id, client.id, "openid", t0())
        .await
        .unwrap();
    tx.upsert_oidc_consent(u.id, client.id, "openid email", t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let access = s.oidc_token("h-access").await.unwrap().unwrap();
    assert_eq!(
        (access.kind, access.revoked_at),
        (OidcTokenKind::Access, Some(t0()))
    );
    assert!(!access.live_at(t0()));
    assert_eq!(
        s.oidc_consent(u.id, client.id).await.unwrap().as_deref(),
        Some("openid email")
    );

    // Deleting the client takes its codes, tokens and consents with it.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.delete_oidc_client(client.id).await.unwrap());
    tx.commit().await.unwrap();
    assert!(s.oidc_token("h-access").await.unwrap().is_none());
    assert!(s.oidc_consent(u.id, client.id).await.unwrap().is_none());
}
