//! Organizations.

use std::collections::BTreeSet;
use std::sync::Arc;

use orgbase_domain::{
    Membership, MembershipStatus, OrgId, OrgStatus, PageRequest, Role, Scope, Session, SessionId,
    Slug,
};
use orgbase_store::{OrgFilter, OrgKey, Store, StoreError};

use crate::harness::{Story, org, stored_org, stored_user, t0};
use crate::story;

pub const STORIES: &[Story] = &[
    story!(create_read_update_an_org),
    story!(a_taken_slug_is_refused_and_slugs_like_finds_the_family),
    story!(a_taken_signup_key_is_a_conflict),
    story!(orgs_as_seen_by_members_and_admins),
];

async fn create_read_update_an_org(s: Arc<dyn Store>) {
    let owner = stored_user(&s, "owner@example.com").await;
    let (mut o, _, _) = stored_org(&s, "acme", Some(owner.id)).await;
    assert_eq!(s.org_by_id(o.id).await.unwrap().as_ref(), Some(&o));
    let slug = Slug::parse("acme").unwrap();
    assert_eq!(s.org_by_slug(&slug).await.unwrap().as_ref(), Some(&o));
    assert_eq!(s.system_org().await.unwrap(), None);

    o.slug = Slug::parse("acme-corp").unwrap();
    o.name = "Acme Corp".into();
    o.description = "Makes anvils".into();
    o.status = OrgStatus::Suspended;
    o.default_framework = Some("openwebui".into());
    o.default_language_model = Some("ollama/llama3.1".into());
    o.public = true;
    o.signup_enabled = true;
    o.signup_key = Some("key-of-acme".into());
    o.signup_role = Role::Editor;
    o.config = serde_json::json!({"providers": {"openai": {"models": ["a", "b"]}}, "n": 1.5});
    o.updated_at = t0().plus_seconds(1);
    o.deleted_at = Some(t0().plus_seconds(2));
    let mut tx = s.begin().await.unwrap();
    tx.update_org(&o).await.unwrap();
    // The lock reads the org as this transaction sees it.
    assert_eq!(tx.lock_org(o.id).await.unwrap().as_ref(), Some(&o));
    tx.commit().await.unwrap();
    assert_eq!(s.org_by_id(o.id).await.unwrap().as_ref(), Some(&o));
    assert_eq!(s.org_by_slug(&slug).await.unwrap(), None);
    assert_eq!(
        s.org_by_signup_key("key-of-acme")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(o.id)
    );
}

async fn a_taken_slug_is_refused_and_slugs_like_finds_the_family(s: Arc<dyn Store>) {
    let (acme, _, _) = stored_org(&s, "acme", None).await;
    let owner = acme.owner_id.unwrap();
    let mut tx = s.begin().await.unwrap();
    let twin = org("acme", owner);
    assert!(!tx.insert_org(&twin).await.unwrap());
    // The refusal is no error: the transaction goes on.
    for slug in ["acme-2", "acme-10", "acmeco", "acm"] {
        assert!(tx.insert_org(&org(slug, owner)).await.unwrap());
    }
    let family: BTreeSet<String> = tx
        .slugs_like(&Slug::parse("acme").unwrap())
        .await
        .unwrap()
        .into_iter()
        .collect();
    tx.commit().await.unwrap();
    let want: BTreeSet<String> = ["acme", "acme-2", "acme-10"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(family, want);
    assert_eq!(s.org_by_id(twin.id).await.unwrap(), None);
}

async fn a_taken_signup_key_is_a_conflict(s: Arc<dyn Store>) {
    let (mut a, _, _) = stored_org(&s, "alpha", None).await;
    let (mut b, _, _) = stored_org(&s, "beta", None).await;
    a.signup_key = Some("shared-key-1".into());
    let mut tx = s.begin().await.unwrap();
    tx.update_org(&a).await.unwrap();
    tx.commit().await.unwrap();

    b.signup_key = Some("shared-key-1".into());
    let mut tx = s.begin().await.unwrap();
    let err = tx.update_org(&b).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);
    assert_eq!(s.org_by_id(b.id).await.unwrap().unwrap().signup_key, None);
    assert_eq!(
        s.org_by_signup_key("shared-key-1")
            .await
            .unwrap()
            .map(|o| o.id),
        Some(a.id)
    );
}

async fn orgs_as_seen_by_members_and_admins(s: Arc<dyn Store>) {
    let u = stored_user(&s, "member@example.com").await;
    let mut ids = Vec::new();
    for slug in ["one", "two", "three", "gone"] {
        ids.push(stored_org(&s, slug, Some(u.id)).await.0);
    }
    let (stranger_org, _, _) = stored_org(&s, "elsewhere", None).await;
    let mut gone = ids[3].clone();
    gone.deleted_at = Some(t0());
    let mut tx = s.begin().await.unwrap();
    for (i, o) in ids.iter().enumerate() {
        let role = if i == 0 { Role::Owner } else { Role::Editor };
        let m = Membership::active(Scope::Org(o.id), o.id, u.id, role, None, t0());
        tx.upsert_membership(&m).await.unwrap();
    }
    tx.update_org(&gone).await.unwrap();
    tx.set_membership_role(
        Scope::Org(ids[2].id),
        u.id,
        Role::Viewer,
        MembershipStatus::Revoked,
        t0(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // The member's orgs: active memberships of live orgs, paged by org id.
    let first = s.orgs_of(u.id, PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(
        (first.items[0].org.id, first.items[0].role),
        (ids[0].id, Role::Owner)
    );
    let cursor = first.next_cursor.expect("a second page");
    let rest = s
        .orgs_of(
            u.id,
            PageRequest {
                after: Some(cursor),
                limit: 10,
            },
        )
        .await
        .unwrap();
    let rest: Vec<OrgId> = rest.items.iter().map(|o| o.org.id).collect();
    assert_eq!(rest, vec![ids[1].id]);

    // One org with the caller's membership, in one query.
    let (o, mine) = s
        .org_access(OrgKey::Id(ids[2].id), u.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.id, mine),
        (ids[2].id, Some((Role::Viewer, MembershipStatus::Revoked)))
    );
    let slug = stranger_org.slug.clone();
    let (o, mine) = s
        .org_access(OrgKey::Slug(&slug), u.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((o.id, mine), (stranger_org.id, None));

    // The same with a session, as authorization reads it.
    let session = Session {
        id: SessionId::new(t0()),
        user_id: u.id,
        token_hash: "th".into(),
        created_at: t0(),
        expires_at: t0().plus_seconds(60),
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.commit().await.unwrap();
    let (auth, found) = s
        .session_org_access("th", t0(), OrgKey::Id(ids[0].id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(auth.user.id, u.id);
    let (o, mine) = found.unwrap();
    assert_eq!(
        (o.id, mine),
        (ids[0].id, Some((Role::Owner, MembershipStatus::Active)))
    );
    let missing = Slug::parse("no-such-org").unwrap();
    let (_, none) = s
        .session_org_access("th", t0(), OrgKey::Slug(&missing))
        .await
        .unwrap()
        .unwrap();
    assert!(none.is_none());

    // What an admin sees, and what counts as owned.
    let live = s
        .all_orgs(OrgFilter::default(), PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(live.items.len(), 4);
    let all = s
        .all_orgs(
            OrgFilter {
                include_deleted: true,
                search: None,
            },
            PageRequest::first(50),
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(s.count_owned_live_orgs(u.id).await.unwrap(), 3);
}
