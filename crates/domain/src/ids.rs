//! Typed identifiers. All are UUIDv7, so they sort by creation time; lists page by id.

use std::fmt;
use std::str::FromStr;

use std::sync::Mutex;

use uuid::{ContextV7, Uuid};

use crate::time::Timestamp;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id whose time part is `at`, so ids follow the injected clock.
            pub fn new(at: Timestamp) -> Self {
                Self(new_v7(at))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    UserId,
    OrgId,
    WorkspaceId,
    ProjectId,
    SessionId,
    ApiKeyId,
    AuditId,
    InvitationId,
    MailId,
    AssistantId,
    OidcClientId
);

/// Ids made in one process increase even within one millisecond (a counter follows
/// the time part), so "newest first" is exact for events of the same node.
static CONTEXT: Mutex<ContextV7> = Mutex::new(ContextV7::new());

fn new_v7(at: Timestamp) -> Uuid {
    let millis = u64::try_from(at.as_millis()).unwrap_or(0);
    let secs = millis / 1000;
    let nanos = u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0);
    let ctx = CONTEXT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Uuid::new_v7(uuid::Timestamp::from_unix(&*ctx, secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_one_millisecond_still_increase() {
        let at = Timestamp::from_millis(1_800_000_000_000);
        let ids: Vec<AuditId> = (0..1000).map(|_| AuditId::new(at)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let later = AuditId::new(at.plus_seconds(1));
        assert!(later > ids[999]);
    }
}
