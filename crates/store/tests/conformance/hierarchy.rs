//! Workspaces, projects and memberships.

use std::sync::Arc;

use orgbase_domain::{
    Membership, MembershipStatus, PageRequest, Project, ProjectId, Role, RoleChain, Scope, UserId,
    Workspace, WorkspaceId,
};
use orgbase_store::{Store, StoreError};

use crate::harness::{Story, stored_org, stored_user, t0, user};
use crate::story;

pub const STORIES: &[Story] = &[
    story!(workspaces_and_projects_are_named_once_per_parent),
    story!(memberships_upsert_page_and_cascade),
    story!(a_membership_of_an_unknown_user_is_a_conflict),
    story!(memberships_are_upserted_in_bulk),
];

async fn workspaces_and_projects_are_named_once_per_parent(s: Arc<dyn Store>) {
    let (o, default_ws, default_p) = stored_org(&s, "acme", None).await;
    assert_eq!(
        s.workspace(default_ws.id).await.unwrap().as_ref(),
        Some(&default_ws)
    );
    assert_eq!(
        s.project(default_p.id).await.unwrap().as_ref(),
        Some(&default_p)
    );

    let ws = |name: &str| Workspace {
        id: WorkspaceId::new(t0()),
        org_id: o.id,
        name: name.into(),
        is_default: false,
        created_at: t0(),
        updated_at: t0(),
    };
    let mut tx = s.begin().await.unwrap();
    assert!(!tx.insert_workspace(&ws("Default")).await.unwrap());
    let extra: Vec<Workspace> = ["Research", "Teaching", "Admin"].map(ws).into();
    for w in &extra {
        assert!(tx.insert_workspace(w).await.unwrap());
    }
    let p = Project {
        id: ProjectId::new(t0()),
        org_id: o.id,
        workspace_id: extra[0].id,
        name: "Default".into(),
        is_default: false,
        created_at: t0(),
        updated_at: t0(),
    };
    // The same name in another workspace is fine; twice in one is not.
    assert!(tx.insert_project(&p).await.unwrap());
    let twin = Project {
        id: ProjectId::new(t0()),
        ..p.clone()
    };
    assert!(!tx.insert_project(&twin).await.unwrap());
    tx.commit().await.unwrap();

    // Paged by id: 4 workspaces, 3 per page.
    let first = s.workspaces(o.id, PageRequest::first(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let second = s
        .workspaces(
            o.id,
            PageRequest {
                after: first.next_cursor,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.next_cursor, None);
    let mut seen: Vec<WorkspaceId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|w| w.id)
        .collect();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    let projects = s
        .projects(extra[0].id, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(projects.items, vec![p]);
}

async fn memberships_upsert_page_and_cascade(s: Arc<dyn Store>) {
    let admin = stored_user(&s, "admin@example.com").await;
    let (o, ws, p) = stored_org(&s, "acme", Some(admin.id)).await;
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(stored_user(&s, &format!("m{i}@example.com")).await);
    }
    let mut tx = s.begin().await.unwrap();
    for u in &users {
        let m = Membership::active(
            Scope::Org(o.id),
            o.id,
            u.id,
            Role::Viewer,
            Some(admin.id),
            t0(),
        );
        tx.upsert_membership(&m).await.unwrap();
    }
    let deep = users[0].id;
    let w = Membership::active(
        Scope::Workspace(ws.id),
        o.id,
        deep,
        Role::Editor,
        None,
        t0(),
    );
    let pm = Membership::active(Scope::Project(p.id), o.id, deep, Role::Admin, None, t0());
    tx.upsert_membership(&w).await.unwrap();
    tx.upsert_membership(&pm).await.unwrap();
    // Upserting again replaces the role, not the row.
    let again = Membership {
        role: Role::Editor,
        updated_at: t0().plus_seconds(1),
        ..Membership::active(
            Scope::Org(o.id),
            o.id,
            users[1].id,
            Role::Viewer,
            None,
            t0(),
        )
    };
    tx.upsert_membership(&again).await.unwrap();
    tx.commit().await.unwrap();

    let m = s
        .membership(Scope::Org(o.id), users[1].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.role, m.status, m.invited_by),
        (Role::Editor, MembershipStatus::Active, None)
    );
    assert_eq!(
        s.role_chain(deep, o.id, Some(ws.id), Some(p.id))
            .await
            .unwrap(),
        RoleChain {
            org: Some(Role::Viewer),
            workspace: Some(Role::Editor),
            project: Some(Role::Admin),
        }
    );
    let (who, chain) = s
        .user_roles(deep, o.id, Some(ws.id), Some(p.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who.id, deep);
    assert_eq!(
        chain,
        s.role_chain(deep, o.id, Some(ws.id), Some(p.id))
            .await
            .unwrap()
    );
    assert_eq!(
        s.user_roles(deep, o.id, None, None)
            .await
            .unwrap()
            .unwrap()
            .1,
        RoleChain {
            org: Some(Role::Viewer),
            ..RoleChain::default()
        }
    );
    assert!(
        s.user_roles(UserId::new(t0()), o.id, None, None)
            .await
            .unwrap()
            .is_none()
    );

    // Members page by user id, with the member's e-mail, two at a time.
    let mut seen: Vec<UserId> = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .members(Scope::Org(o.id), PageRequest { after, limit: 2 })
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        for m in &page.items {
            let u = users.iter().find(|u| u.id == m.membership.user_id).unwrap();
            assert_eq!(m.email, u.email);
        }
        seen.extend(page.items.iter().map(|m| m.membership.user_id));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    let mut want: Vec<UserId> = users.iter().map(|u| u.id).collect();
    want.sort();
    assert_eq!(seen, want);
    let project_members = s
        .members(Scope::Project(p.id), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(project_members.items.len(), 1);
    assert_eq!(project_members.items[0].membership.role, Role::Admin);

    // Revoked memberships leave the role chain and /me; removal from the org cascades.
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.set_membership_role(
            Scope::Workspace(ws.id),
            deep,
            Role::Editor,
            MembershipStatus::Revoked,
            t0()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    let chain = s
        .role_chain(deep, o.id, Some(ws.id), Some(p.id))
        .await
        .unwrap();
    assert_eq!(chain.workspace, None);
    assert_eq!(s.memberships_of(deep).await.unwrap().len(), 1);

    let mut tx = s.begin().await.unwrap();
    assert!(tx.delete_org_memberships(o.id, deep).await.unwrap());
    assert!(!tx.delete_membership(Scope::Org(o.id), deep).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        s.role_chain(deep, o.id, Some(ws.id), Some(p.id))
            .await
            .unwrap(),
        RoleChain::default()
    );
    assert!(
        s.membership(Scope::Project(p.id), deep)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.memberships_of(deep).await.unwrap().is_empty());
}

async fn a_membership_of_an_unknown_user_is_a_conflict(s: Arc<dyn Store>) {
    let (o, _, _) = stored_org(&s, "acme", None).await;
    let ghost = UserId::new(t0());
    let m = Membership::active(Scope::Org(o.id), o.id, ghost, Role::Viewer, None, t0());
    let mut tx = s.begin().await.unwrap();
    let err = tx.upsert_membership(&m).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);
    assert!(
        s.membership(Scope::Org(o.id), ghost)
            .await
            .unwrap()
            .is_none()
    );
}

/// More rows than one statement takes, over two tables, replacing existing ones.
async fn memberships_are_upserted_in_bulk(s: Arc<dyn Store>) {
    let (o, ws, _) = stored_org(&s, "acme", None).await;
    let users: Vec<_> = (0..2100)
        .map(|i| user(&format!("bulk{i}@example.com")))
        .collect();
    let mut tx = s.begin().await.unwrap();
    for u in &users {
        assert!(tx.insert_user(u, None).await.unwrap());
    }
    // The first ten are members already, as editors; the bulk makes them viewers.
    for u in &users[..10] {
        let m = Membership::active(Scope::Org(o.id), o.id, u.id, Role::Editor, None, t0());
        tx.upsert_membership(&m).await.unwrap();
    }
    let mut bulk: Vec<Membership> = users
        .iter()
        .map(|u| Membership::active(Scope::Org(o.id), o.id, u.id, Role::Viewer, None, t0()))
        .collect();
    bulk.extend(
        users[..3].iter().map(|u| {
            Membership::active(Scope::Workspace(ws.id), o.id, u.id, Role::Admin, None, t0())
        }),
    );
    tx.upsert_memberships(&bulk).await.unwrap();
    tx.commit().await.unwrap();

    let mut seen = 0;
    let mut page = PageRequest::first(500);
    loop {
        let got = s.members(Scope::Org(o.id), page).await.unwrap();
        seen += got.items.len();
        match got.next_cursor {
            Some(after) => {
                page = PageRequest {
                    after: Some(after),
                    limit: 500,
                }
            }
            None => break,
        }
    }
    // `stored_org` makes the owner's user, not a membership.
    assert_eq!(seen, 2100);
    let first = s
        .membership(Scope::Org(o.id), users[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.role, Role::Viewer);
    let last = s
        .membership(Scope::Org(o.id), users[2099].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.role, Role::Viewer);
    assert_eq!(
        s.role_chain(users[2].id, o.id, Some(ws.id), None)
            .await
            .unwrap(),
        RoleChain {
            org: Some(Role::Viewer),
            workspace: Some(Role::Admin),
            project: None
        }
    );
    assert_eq!(
        s.members(Scope::Workspace(ws.id), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}
