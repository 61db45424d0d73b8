//! Users, sessions, passwords.

use std::sync::Arc;

use orgbase_domain::{Email, PasswordHash, PasswordToken, Session, SessionId, User, UserId};
use orgbase_store::Store;

use crate::harness::{Story, stored_user, t0, user};
use crate::story;

pub const STORIES: &[Story] = &[
    story!(create_read_update_a_user),
    story!(a_taken_email_is_refused_and_the_tx_goes_on),
    story!(only_the_credential_reads_return_the_hash),
    story!(sessions_live_until_they_expire_or_end),
    story!(password_links_are_single_use_and_expire),
];

async fn create_read_update_a_user(s: Arc<dyn Store>) {
    let mut u = user("Ada@Example.com");
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_user(&u, None).await.unwrap());
    tx.commit().await.unwrap();

    assert_eq!(s.user_by_id(u.id).await.unwrap().as_ref(), Some(&u));
    let email = Email::parse("ada@example.com").unwrap();
    assert_eq!(s.user_by_email(&email).await.unwrap().as_ref(), Some(&u));
    assert_eq!(s.user_by_id(UserId::new(t0())).await.unwrap(), None);

    u.name = "Ada L.".into();
    u.enabled = false;
    u.is_system_admin = true;
    u.updated_at = t0().plus_seconds(5);
    let mut tx = s.begin().await.unwrap();
    tx.update_user(&u).await.unwrap();
    tx.set_last_login(u.id, t0().plus_seconds(9)).await.unwrap();
    tx.commit().await.unwrap();
    let back = s.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(
        back,
        User {
            last_login_at: Some(t0().plus_seconds(9)),
            ..u.clone()
        }
    );
    // Disabled admins do not count.
    assert_eq!(s.count_system_admins().await.unwrap(), 0);
    let page = s
        .users(Default::default(), orgbase_domain::PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // Searching: a part of the address or the name, any case; LIKE's own wildcards
    // match only themselves.
    let search = |q: &str| orgbase_store::UserFilter {
        search: Some(q.to_string()),
    };
    for (q, n) in [("EXAMPLE", 1), ("ada l", 1), ("zz", 0), ("%", 0), ("_", 0)] {
        let page = s
            .users(search(q), orgbase_domain::PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(page.items.len(), n, "search {q:?}");
    }
}

async fn a_taken_email_is_refused_and_the_tx_goes_on(s: Arc<dyn Store>) {
    let first = stored_user(&s, "bo@example.com").await;
    let again = user("BO@example.com");
    let other = user("cy@example.com");
    let mut tx = s.begin().await.unwrap();
    assert!(!tx.insert_user(&again, None).await.unwrap());
    // No error: the same transaction still works.
    assert!(tx.insert_user(&other, None).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(s.user_by_id(again.id).await.unwrap(), None);
    assert!(s.user_by_id(other.id).await.unwrap().is_some());
    assert!(s.user_by_id(first.id).await.unwrap().is_some());
}

async fn only_the_credential_reads_return_the_hash(s: Arc<dyn Store>) {
    let u = user("di@example.com");
    let hash = PasswordHash::from_phc("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA".into());
    let mut tx = s.begin().await.unwrap();
    assert!(tx.insert_user(&u, Some(&hash)).await.unwrap());
    tx.commit().await.unwrap();

    let (found, stored) = s.credentials_by_email(&u.email).await.unwrap().unwrap();
    assert_eq!((found, stored.as_ref()), (u.clone(), Some(&hash)));
    assert_eq!(s.password_hash(u.id).await.unwrap().as_ref(), Some(&hash));

    // Writing the user leaves the hash alone; set_password_hash replaces it.
    let mut tx = s.begin().await.unwrap();
    tx.update_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.password_hash(u.id).await.unwrap().as_ref(), Some(&hash));
    let new = PasswordHash::from_phc("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$bmV3".into());
    let mut tx = s.begin().await.unwrap();
    tx.set_password_hash(u.id, &new, t0().plus_seconds(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.password_hash(u.id).await.unwrap().as_ref(), Some(&new));
    assert_eq!(
        s.user_by_id(u.id).await.unwrap().unwrap().updated_at,
        t0().plus_seconds(1)
    );

    // A user without a password.
    let plain = stored_user(&s, "ed@example.com").await;
    let (_, none) = s.credentials_by_email(&plain.email).await.unwrap().unwrap();
    assert_eq!(none, None);
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert!(s.credentials_by_email(&nobody).await.unwrap().is_none());
}

fn session(user: UserId, token_hash: &str, ttl: i64) -> Session {
    Session {
        id: SessionId::new(t0()),
        user_id: user,
        token_hash: token_hash.into(),
        created_at: t0(),
        expires_at: t0().plus_seconds(ttl),
    }
}

async fn sessions_live_until_they_expire_or_end(s: Arc<dyn Store>) {
    let u = stored_user(&s, "fa@example.com").await;
    let (a, b, c) = (
        session(u.id, "hash-a", 60),
        session(u.id, "hash-b", 60),
        session(u.id, "hash-c", 60),
    );
    let mut tx = s.begin().await.unwrap();
    for x in [&a, &b, &c] {
        tx.insert_session(x).await.unwrap();
    }
    tx.commit().await.unwrap();

    let auth = s.session_user("hash-a", t0()).await.unwrap().unwrap();
    assert_eq!((auth.id, auth.user), (a.id, u.clone()));
    assert!(
        s.session_user("hash-a", t0().plus_seconds(60))
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.session_user("unknown", t0()).await.unwrap().is_none());

    let mut tx = s.begin().await.unwrap();
    tx.delete_session(c.id).await.unwrap();
    assert_eq!(tx.delete_sessions_of(u.id, Some(a.id)).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert!(s.session_user("hash-a", t0()).await.unwrap().is_some());
    assert!(s.session_user("hash-b", t0()).await.unwrap().is_none());
    assert!(s.session_user("hash-c", t0()).await.unwrap().is_none());
}

async fn password_links_are_single_use_and_expire(s: Arc<dyn Store>) {
    let u = stored_user(&s, "gu@example.com").await;
    let link = |hash: &str| PasswordToken {
        token_hash: hash.into(),
        user_id: u.id,
        mailed: hash == "once",
        created_at: t0(),
        expires_at: t0().plus_seconds(3600),
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_password_token(&link("once")).await.unwrap();
    tx.insert_password_token(&link("late")).await.unwrap();
    tx.insert_password_token(&link("dropped")).await.unwrap();
    tx.insert_password_token(&link("handed")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.take_password_token("once", t0()).await.unwrap(),
        Some((u.id, true))
    );
    assert_eq!(tx.take_password_token("once", t0()).await.unwrap(), None);
    assert_eq!(
        tx.take_password_token("handed", t0()).await.unwrap(),
        Some((u.id, false))
    );
    let after_expiry = t0().plus_seconds(3600);
    assert_eq!(
        tx.take_password_token("late", after_expiry).await.unwrap(),
        None
    );
    tx.delete_password_tokens_of(u.id).await.unwrap();
    assert_eq!(tx.take_password_token("dropped", t0()).await.unwrap(), None);
    tx.commit().await.unwrap();
}
