//! Claimed domains, invitations and API keys.

use std::sync::Arc;

use orgbase_domain::{
    ApiKey, ApiKeyId, DomainStatus, Email, Invitation, InvitationId, InvitationStatus, OrgDomain,
    PageRequest, Role,
};
use orgbase_store::{Store, StoreError};

use crate::harness::{Story, stored_org, stored_user, t0};
use crate::story;

pub const STORIES: &[Story] = &[
    story!(a_domain_is_claimed_by_one_org),
    story!(invitations_filter_by_status_and_change_once),
    story!(api_keys_page_expire_and_are_unique),
];

async fn a_domain_is_claimed_by_one_org(s: Arc<dyn Store>) {
    let (a, _, _) = stored_org(&s, "alpha", None).await;
    let (b, _, _) = stored_org(&s, "beta", None).await;
    let claim = |org, domain: &str| OrgDomain {
        domain: domain.into(),
        org_id: org,
        auto_join: true,
        role: Role::Editor,
        status: DomainStatus::Pending,
        token: format!("token-{domain}"),
        created_at: t0(),
        verified_at: None,
    };
    // Pending claims: one per org and domain, several orgs may claim a domain.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_domain(&claim(a.id, "aarhus.dk")).await.unwrap());
    assert!(
        tx.insert_domain(&claim(a.id, "skole.aarhus.dk"))
            .await
            .unwrap()
    );
    assert!(!tx.insert_domain(&claim(a.id, "aarhus.dk")).await.unwrap());
    assert!(tx.insert_domain(&claim(b.id, "aarhus.dk")).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(s.verified_domain("aarhus.dk").await.unwrap(), None);
    assert_eq!(
        s.domain_claim(a.id, "aarhus.dk").await.unwrap(),
        Some(claim(a.id, "aarhus.dk"))
    );

    // One claim of a domain may be verified; the other org's then cannot be.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.verify_domain(a.id, "aarhus.dk", t0()).await.unwrap());
    assert!(!tx.verify_domain(a.id, "aarhus.dk", t0()).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.verify_domain(b.id, "aarhus.dk", t0()).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let verified = s.verified_domain("aarhus.dk").await.unwrap().unwrap();
    assert_eq!(verified.org_id, a.id);
    assert_eq!(verified.status, DomainStatus::Verified);
    assert_eq!(verified.verified_at, Some(t0()));
    assert_eq!(s.verified_domain("dk").await.unwrap(), None);
    let names: Vec<String> = s
        .domains_of(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.domain)
        .collect();
    assert_eq!(names, ["aarhus.dk", "skole.aarhus.dk"]);
    assert_eq!(s.domains_of(b.id).await.unwrap().len(), 1);

    let mut tx = s.begin().await.unwrap();
    assert!(tx.delete_domain(b.id, "aarhus.dk").await.unwrap());
    assert!(tx.delete_domain(a.id, "aarhus.dk").await.unwrap());
    assert!(!tx.delete_domain(a.id, "aarhus.dk").await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(s.verified_domain("aarhus.dk").await.unwrap(), None);
}

async fn invitations_filter_by_status_and_change_once(s: Arc<dyn Store>) {
    let inviter = stored_user(&s, "admin@example.com").await;
    let (o, ws, _) = stored_org(&s, "acme", Some(inviter.id)).await;
    let inv = |n: u32, ttl: i64, status: InvitationStatus| Invitation {
        link_shown: n.is_multiple_of(2),
        id: InvitationId::new(t0()),
        org_id: o.id,
        workspace_id: (n == 0).then_some(ws.id),
        project_id: None,
        email: Email::parse(&format!("guest{n}@example.com")).unwrap(),
        role: Role::Editor,
        token_hash: format!("inv-{n}"),
        status,
        invited_by: Some(inviter.id),
        created_at: t0(),
        updated_at: t0(),
        expires_at: t0().plus_seconds(ttl),
        accepted_at: None,
    };
    let open = inv(0, 600, InvitationStatus::Pending);
    let stale = inv(1, 10, InvitationStatus::Pending);
    let revoked = inv(2, 600, InvitationStatus::Revoked);
    let mut tx = s.begin().await.unwrap();
    for i in [&open, &stale, &revoked] {
        tx.insert_invitation(i).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(s.invitation(open.id).await.unwrap().as_ref(), Some(&open));
    assert_eq!(
        s.invitation_by_token("inv-1").await.unwrap().as_ref(),
        Some(&stale)
    );

    // Expiry is read against `now`, not swept.
    let now = t0().plus_seconds(60);
    let ids = |status| {
        let s = s.clone();
        async move {
            s.invitations_of(o.id, status, now, PageRequest::first(10))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(None).await, [open.id, stale.id, revoked.id]);
    assert_eq!(ids(Some(InvitationStatus::Pending)).await, [open.id]);
    assert_eq!(ids(Some(InvitationStatus::Expired)).await, [stale.id]);
    assert_eq!(ids(Some(InvitationStatus::Revoked)).await, [revoked.id]);
    assert!(ids(Some(InvitationStatus::Accepted)).await.is_empty());

    // Compare and set: of two changes expecting "pending", one wins.
    let mut tx = s.begin().await.unwrap();
    let mut accepted = tx.lock_invitation(open.id).await.unwrap().unwrap();
    accepted.status = InvitationStatus::Accepted;
    accepted.accepted_at = Some(now);
    accepted.updated_at = now;
    assert!(
        tx.update_invitation(&accepted, InvitationStatus::Pending)
            .await
            .unwrap()
    );
    let mut declined = open.clone();
    declined.status = InvitationStatus::Declined;
    assert!(
        !tx.update_invitation(&declined, InvitationStatus::Pending)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(s.invitation(open.id).await.unwrap(), Some(accepted));

    // Token hashes are unique.
    let dup = Invitation {
        id: InvitationId::new(t0()),
        ..inv(9, 600, InvitationStatus::Pending)
    };
    let dup = Invitation {
        token_hash: "inv-1".into(),
        ..dup
    };
    let mut tx = s.begin().await.unwrap();
    let err = tx.insert_invitation(&dup).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn api_keys_page_expire_and_are_unique(s: Arc<dyn Store>) {
    let u = stored_user(&s, "dev@example.com").await;
    let key = |n: u32, expires: Option<i64>| ApiKey {
        id: ApiKeyId::new(t0()),
        user_id: u.id,
        name: format!("key {n}"),
        prefix: format!("obk_{n}"),
        token_hash: format!("key-{n}"),
        created_at: t0(),
        expires_at: expires.map(|e| t0().plus_seconds(e)),
        last_used_at: None,
    };
    let keys: Vec<ApiKey> = (0..3).map(|n| key(n, (n == 2).then_some(30))).collect();
    let mut tx = s.begin().await.unwrap();
    for k in &keys {
        tx.insert_api_key(k).await.unwrap();
    }
    tx.commit().await.unwrap();

    let first = s.api_keys_of(u.id, PageRequest::first(2)).await.unwrap();
    assert_eq!(first.items, keys[..2]);
    let rest = s
        .api_keys_of(
            u.id,
            PageRequest {
                after: first.next_cursor,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (rest.items.as_slice(), rest.next_cursor),
        (&keys[2..], None)
    );

    // Found by hash while live, with its user; last use is recorded outside a tx.
    let auth = s.api_key_user("key-2", t0()).await.unwrap().unwrap();
    assert_eq!(
        (auth.id, auth.user.id, auth.last_used_at),
        (keys[2].id, u.id, None)
    );
    s.touch_api_key(keys[2].id, t0().plus_seconds(5))
        .await
        .unwrap();
    let auth = s.api_key_user("key-2", t0()).await.unwrap().unwrap();
    assert_eq!(auth.last_used_at, Some(t0().plus_seconds(5)));
    assert!(
        s.api_key_user("key-2", t0().plus_seconds(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.api_key_user("key-0", t0().plus_seconds(1_000_000))
            .await
            .unwrap()
            .is_some()
    );

    let other = stored_user(&s, "other@example.com").await;
    let mut tx = s.begin().await.unwrap();
    assert!(!tx.delete_api_key(other.id, keys[0].id).await.unwrap());
    assert!(tx.delete_api_key(u.id, keys[0].id).await.unwrap());
    let twin = ApiKey {
        id: ApiKeyId::new(t0()),
        ..keys[1].clone()
    };
    let err = tx.insert_api_key(&twin).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);
    // The failed transaction took the deletion with it.
    let left: Vec<ApiKeyId> = s
        .api_keys_of(u.id, PageRequest::first(10))
        .await
        .unwrap()
        .items
        .iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(left, keys.iter().map(|k| k.id).collect::<Vec<_>>());
}
