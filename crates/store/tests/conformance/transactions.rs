//! What a transaction promises: its reads see its writes, a drop undoes them, and
//! nothing is visible outside before the commit.

use std::sync::Arc;

use orgbase_domain::{Membership, Role, Scope, default_tree};
use orgbase_store::Store;

use crate::harness::{Story, org, stored_user, t0, user};
use crate::story;

pub const STORIES: &[Story] = &[
    story!(dropping_a_tx_rolls_everything_back),
    story!(a_tx_reads_its_own_writes_and_commits_them_together),
];

async fn dropping_a_tx_rolls_everything_back(s: Arc<dyn Store>) {
    let u = user("ann@example.com");
    let o = org("acme", u.id);
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_user(&u, None).await.unwrap());
    assert!(tx.insert_org(&o).await.unwrap());
    let m = Membership::active(Scope::Org(o.id), o.id, u.id, Role::Owner, None, t0());
    tx.upsert_membership(&m).await.unwrap();
    drop(tx);

    assert_eq!(s.user_by_id(u.id).await.unwrap(), None);
    assert_eq!(s.org_by_id(o.id).await.unwrap(), None);
    assert_eq!(s.membership(Scope::Org(o.id), u.id).await.unwrap(), None);
    // The e-mail and slug are free again.
    let ann = user("ann@example.com");
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_user(&ann, None).await.unwrap());
    assert!(tx.insert_org(&org("acme", ann.id)).await.unwrap());
    tx.commit().await.unwrap();
}

async fn a_tx_reads_its_own_writes_and_commits_them_together(s: Arc<dyn Store>) {
    let owner = stored_user(&s, "bea@example.com").await;
    let o = org("acme", owner.id);
    let (ws, p) = default_tree(o.id, t0());
    let m = Membership::active(Scope::Org(o.id), o.id, owner.id, Role::Owner, None, t0());
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_org(&o).await.unwrap());
    assert!(tx.insert_workspace(&ws).await.unwrap());
    assert!(tx.insert_project(&p).await.unwrap());
    tx.upsert_membership(&m).await.unwrap();
    tx.set_home_org(owner.id, Some(o.id), t0()).await.unwrap();

    // Inside: every read of the transaction sees the writes.
    assert_eq!(tx.org_by_id(o.id).await.unwrap().as_ref(), Some(&o));
    assert_eq!(tx.project(p.id).await.unwrap().as_ref(), Some(&p));
    assert_eq!(
        tx.membership(Scope::Org(o.id), owner.id).await.unwrap(),
        Some(m.clone())
    );
    assert_eq!(tx.count_owned_live_orgs(owner.id).await.unwrap(), 1);
    assert_eq!(
        tx.user_by_id(owner.id).await.unwrap().unwrap().home_org_id,
        Some(o.id)
    );
    // Outside: nothing yet.
    assert_eq!(s.org_by_id(o.id).await.unwrap(), None);
    assert_eq!(
        s.user_by_id(owner.id).await.unwrap().unwrap().home_org_id,
        None
    );
    tx.commit().await.unwrap();

    assert_eq!(s.org_by_id(o.id).await.unwrap(), Some(o.clone()));
    assert_eq!(s.workspace(ws.id).await.unwrap(), Some(ws));
    assert_eq!(
        s.membership(Scope::Org(o.id), owner.id).await.unwrap(),
        Some(m)
    );
    assert_eq!(
        s.user_by_id(owner.id).await.unwrap().unwrap().home_org_id,
        Some(o.id)
    );
}
