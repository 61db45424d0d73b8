//! The audit trail.

use std::sync::Arc;

use orgbase_domain::{AuditEvent, AuditId, OrgId, PageRequest};
use orgbase_store::{AuditFilter, Store};

use crate::harness::{Story, stored_org, stored_user, t0};
use crate::story;

pub const STORIES: &[Story] = &[story!(audit_events_newest_first_filtered_and_paged)];

async fn audit_events_newest_first_filtered_and_paged(s: Arc<dyn Store>) {
    let actor = stored_user(&s, "actor@example.com").await;
    let (a, _, _) = stored_org(&s, "alpha", None).await;
    let (b, _, _) = stored_org(&s, "beta", None).await;
    let event = |n: i64, org: Option<OrgId>, action: &str| AuditEvent {
        id: AuditId::new(t0().plus_seconds(n)),
        at: t0().plus_seconds(n),
        actor_user_id: Some(actor.id),
        actor_api_key_id: None,
        org_id: org,
        action: action.parse().unwrap(),
        target_type: "org".into(),
        target_id: n.to_string(),
        details: serde_json::json!({"n": n, "nested": {"list": [1, 2]}}),
        client_addr: Some("192.0.2.1".into()),
        request_id: Some(format!("req-{n}")),
    };
    let events = vec![
        event(1, Some(a.id), "org.create"),
        event(2, Some(b.id), "org.create"),
        event(3, Some(a.id), "member.add"),
        event(4, None, "user.signup"),
        event(5, Some(a.id), "member.add"),
    ];
    let mut tx = s.begin().await.unwrap();
    for e in &events {
        tx.insert_audit(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let all = s
        .audit(&AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    let newest_first: Vec<AuditEvent> = events.iter().rev().cloned().collect();
    assert_eq!(all.items, newest_first);

    let of_a = AuditFilter {
        org_id: Some(a.id),
        action: None,
    };
    let first = s.audit(&of_a, PageRequest::first(2)).await.unwrap();
    let first_ids: Vec<_> = first.items.iter().map(|e| e.id).collect();
    assert_eq!(first_ids, [events[4].id, events[2].id]);
    let rest = s
        .audit(
            &of_a,
            PageRequest {
                after: first.next_cursor,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (rest.items.as_slice(), rest.next_cursor),
        (&events[..1], None)
    );

    let adds_in_a = AuditFilter {
        org_id: Some(a.id),
        action: Some("member.add".parse().unwrap()),
    };
    let adds = s.audit(&adds_in_a, PageRequest::first(10)).await.unwrap();
    assert_eq!(adds.items.len(), 2);
    let creates = AuditFilter {
        org_id: None,
        action: Some("org.create".parse().unwrap()),
    };
    assert_eq!(
        s.audit(&creates, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}
