//! The read cache: the hot reads (who is behind a token, an org with the caller's
//! role, role chains, member pages, a user's orgs) answered from memory, never staler
//! than the database allows (ADR 0024).
//!
//! Correctness rests on two things:
//!
//! - **A generation.** Every entry carries the generation that was current *before*
//!   its value was read. Any change bumps the generation, so every older entry stops
//!   counting at once. A change made through this store bumps it right after its
//!   commit (the next request on this node sees it); a change made elsewhere (another
//!   node, the CLI) bumps it when the watcher hears of it. Coarse on purpose: any write
//!   empties the cache, so no rule about which write touches which entry can be wrong.
//! - **A confirmation.** The watcher confirms every [`CONFIRM_EVERY`] that it has heard
//!   of every change committed before the moment it started confirming (SQLite:
//!   `PRAGMA data_version`; PostgreSQL: its own heartbeat coming back through
//!   LISTEN/NOTIFY behind every earlier notification). The cache answers only while
//!   the last confirmation is younger than [`FRESH_FOR`]; otherwise (a stalled watcher,
//!   a lost listener connection) every read goes to the database. So an answer is never
//!   older than the database by more than `FRESH_FOR`, and on this node not at all.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orgbase_domain::{
    ApiKeyAuth, Member, Org, OrgApiKey, OrgId, OrgWithRole, Page, PageRequest, Project, ProjectId,
    RoleChain, Scope, SessionAuth, Timestamp, User, UserId, Workspace, WorkspaceId,
};

use crate::{OrgAccessRow, OrgKey, Result};

/// How long a confirmation lasts: the most an answer may lag a change made elsewhere.
pub const FRESH_FOR: Duration = Duration::from_millis(100);
/// How often the watcher confirms.
pub const CONFIRM_EVERY: Duration = Duration::from_millis(20);
/// The oldest an entry may be by default on PostgreSQL, whatever the watcher heard
/// (`ORGBASE_READ_CACHE_MAX_AGE_MS`): the bound for writes nobody announces, which are
/// PostgreSQL writes with triggers disabled (`session_replication_role = replica`, as
/// `pg_restore --disable-triggers` and logical replication make them). Every other
/// write is heard of within `FRESH_FOR`. SQLite has no such writes (`PRAGMA
/// data_version` counts every commit by any other connection, in any process), so its
/// entries have no age bound unless one is configured.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// `confirmed` value of a store nobody else can write (an in-memory SQLite database).
const ALWAYS: u64 = u64::MAX;

/// The generation and the last confirmation.
pub struct Freshness {
    generation: AtomicU64,
    epoch: Instant,
    /// Microseconds after `epoch` up to which every change has been seen (0: never).
    confirmed: AtomicU64,
    /// Off (ORGBASE_READ_CACHE=off): every read goes to the database.
    enabled: bool,
    /// The oldest an entry may be, in microseconds (`u64::MAX`: no bound).
    max_age: u64,
}

impl Freshness {
    pub fn new(enabled: bool) -> Self {
        Self {
            generation: AtomicU64::new(1),
            epoch: Instant::now(),
            confirmed: AtomicU64::new(0),
            enabled,
            max_age: u64::MAX,
        }
    }

    /// Entries older than `age` are read again.
    pub fn with_max_age(mut self, age: Duration) -> Self {
        self.max_age = micros(age);
        self
    }

    /// Whether an entry read at `read_at` may still answer at `now` (both microseconds
    /// after the epoch).
    fn young(&self, read_at: u64, now: u64) -> bool {
        now.saturating_sub(read_at) <= self.max_age
    }

    /// For a database no one else can write: confirmed for good.
    pub fn sole_writer(enabled: bool) -> Self {
        let f = Self::new(enabled);
        f.confirmed.store(ALWAYS, Ordering::Release);
        f
    }

    /// The generation to tag a read with, or `None` when the cache must not answer.
    pub fn current(&self) -> Option<u64> {
        if !self.enabled {
            return None;
        }
        let confirmed = self.confirmed.load(Ordering::Acquire);
        if confirmed == 0 {
            return None;
        }
        if confirmed != ALWAYS && self.micros_now().saturating_sub(confirmed) > micros(FRESH_FOR) {
            return None;
        }
        Some(self.generation.load(Ordering::Acquire))
    }

    /// Something changed (or may have): every entry made before is void.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Every change committed before `started` has been seen (and `changed` called for
    /// it). Call after `changed`, never before.
    pub fn confirm(&self, started: Instant) {
        self.confirm_micros(micros(started.saturating_duration_since(self.epoch)));
    }

    /// The same, as microseconds after this store's epoch (what heartbeats carry).
    pub fn confirm_micros(&self, at: u64) {
        let _ = self
            .confirmed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (c != ALWAYS && at.max(1) > c).then_some(at.max(1))
            });
    }

    /// Microseconds since this store's epoch.
    pub fn micros_now(&self) -> u64 {
        micros(self.epoch.elapsed())
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX - 1)
}

/// A value that can run out with time (a session, a key): a cached copy counts only
/// while it would still be returned by the query at `now`.
pub trait Expiring {
    fn live_at(&self, now: Timestamp) -> bool;
}

impl Expiring for Option<SessionAuth> {
    fn live_at(&self, now: Timestamp) -> bool {
        self.as_ref().is_none_or(|a| a.expires_at > now)
    }
}

impl Expiring for SessionOrgAccess {
    fn live_at(&self, now: Timestamp) -> bool {
        self.as_ref().is_none_or(|(a, _)| a.expires_at > now)
    }
}

impl Expiring for Option<ApiKeyAuth> {
    fn live_at(&self, now: Timestamp) -> bool {
        self.as_ref()
            .is_none_or(|a| a.expires_at.is_none_or(|e| e > now))
    }
}

impl Expiring for Option<(OrgApiKey, Org)> {
    fn live_at(&self, now: Timestamp) -> bool {
        self.as_ref()
            .is_none_or(|(k, _)| k.expires_at.is_none_or(|e| e > now))
    }
}

/// One cached read: a bounded map from its arguments to its answer.
pub struct Memo<K, V> {
    map: quick_cache::sync::Cache<K, Entry<V>, ByWeight>,
    weigh: fn(&V) -> u64,
}

#[derive(Clone)]
struct Entry<V> {
    generation: u64,
    /// The `now` the query ran with, for reads that depend on it.
    asked_at: Option<Timestamp>,
    /// When it was read (microseconds after the store's epoch, taken before the read).
    read_at: u64,
    /// Computed once, when stored (the map must see the same weight on eviction).
    weight: u64,
    value: V,
}

/// An entry weighs what it was given when stored.
#[derive(Clone)]
struct ByWeight;

impl<K, V> quick_cache::Weighter<K, Entry<V>> for ByWeight {
    fn weight(&self, _key: &K, e: &Entry<V>) -> u64 {
        e.weight
    }
}

impl<K, V> Memo<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// At most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self::weighted(capacity, capacity as u64, |_| 1)
    }

    /// Entries of varying size (pages): at most `capacity` units of `weigh`, for about
    /// `entries` entries.
    pub fn weighted(entries: usize, capacity: u64, weigh: fn(&V) -> u64) -> Self {
        Self {
            map: quick_cache::sync::Cache::with_weighter(entries, capacity, ByWeight),
            weigh,
        }
    }

    fn entry(
        &self,
        generation: u64,
        read_at: u64,
        asked_at: Option<Timestamp>,
        value: V,
    ) -> Entry<V> {
        Entry {
            generation,
            asked_at,
            read_at,
            weight: (self.weigh)(&value).max(1),
            value,
        }
    }

    /// The cached answer, or `load`'s (cached for next time).
    pub async fn get_or(
        &self,
        fresh: &Freshness,
        key: K,
        load: impl Future<Output = Result<V>>,
    ) -> Result<V> {
        let Some(generation) = fresh.current() else {
            return load.await;
        };
        let now = fresh.micros_now();
        if let Some(e) = self.map.get(&key)
            && e.generation == generation
            && fresh.young(e.read_at, now)
        {
            return Ok(e.value);
        }
        let value = load.await?;
        self.map
            .insert(key, self.entry(generation, now, None, value.clone()));
        Ok(value)
    }

    /// The same for a read that depends on `now`: a cached answer counts when it was
    /// asked at or before `now` and has not run out since.
    pub async fn get_or_at(
        &self,
        fresh: &Freshness,
        key: K,
        now: Timestamp,
        load: impl Future<Output = Result<V>>,
    ) -> Result<V>
    where
        V: Expiring,
    {
        let Some(generation) = fresh.current() else {
            return load.await;
        };
        let read_at = fresh.micros_now();
        if let Some(e) = self.map.get(&key)
            && e.generation == generation
            && fresh.young(e.read_at, read_at)
            && e.asked_at.is_some_and(|t| t <= now)
            && e.value.live_at(now)
        {
            return Ok(e.value);
        }
        let value = load.await?;
        self.map.insert(
            key,
            self.entry(generation, read_at, Some(now), value.clone()),
        );
        Ok(value)
    }
}

/// An [`OrgKey`] that owns its slug, for keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrgKeyBuf {
    Id(OrgId),
    Slug(String),
}

impl From<OrgKey<'_>> for OrgKeyBuf {
    fn from(k: OrgKey<'_>) -> Self {
        match k {
            OrgKey::Id(id) => Self::Id(id),
            OrgKey::Slug(s) => Self::Slug(s.as_str().to_string()),
        }
    }
}

/// A user on a path org > workspace > project.
pub type PathKey = (UserId, OrgId, Option<WorkspaceId>, Option<ProjectId>);

/// What the one-query path of org-scoped requests answers (see `OrgReads`).
pub type SessionOrgAccess = Option<(SessionAuth, Option<OrgAccessRow>)>;

/// The cached reads of one store. Sizes bound memory: a few tens of MB when full.
pub struct ReadCache {
    pub fresh: Arc<Freshness>,
    pub sessions: Memo<String, Option<SessionAuth>>,
    pub api_keys: Memo<String, Option<ApiKeyAuth>>,
    pub service_keys: Memo<String, Option<(OrgApiKey, Org)>>,
    pub session_orgs: Memo<(String, OrgKeyBuf), SessionOrgAccess>,
    pub org_access: Memo<(OrgKeyBuf, UserId), Option<OrgAccessRow>>,
    pub orgs: Memo<OrgId, Option<Org>>,
    pub orgs_of: Memo<(UserId, PageRequest), Page<OrgWithRole>>,
    pub members: Memo<(Scope, PageRequest), Page<Member>>,
    pub role_chains: Memo<PathKey, RoleChain>,
    pub user_roles: Memo<PathKey, Option<(User, RoleChain)>>,
    pub workspaces: Memo<WorkspaceId, Option<Workspace>>,
    pub projects: Memo<ProjectId, Option<Project>>,
}

impl ReadCache {
    pub fn new(fresh: Freshness) -> Self {
        Self {
            fresh: Arc::new(fresh),
            sessions: Memo::new(10_000),
            api_keys: Memo::new(2_000),
            service_keys: Memo::new(2_000),
            session_orgs: Memo::new(10_000),
            org_access: Memo::new(10_000),
            orgs: Memo::new(5_000),
            // Pages weigh their rows: up to 50,000 orgs and 100,000 members (a few KB
            // per 50-row page of members).
            orgs_of: Memo::weighted(5_000, 50_000, |p| p.items.len() as u64 + 1),
            members: Memo::weighted(5_000, 100_000, |p| p.items.len() as u64 + 1),
            role_chains: Memo::new(20_000),
            user_roles: Memo::new(10_000),
            workspaces: Memo::new(5_000),
            projects: Memo::new(5_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_voids_what_was_read_before_it() {
        let fresh = Freshness::sole_writer(true);
        let memo: Memo<u32, u32> = Memo::new(10);
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(10) }).await.unwrap(), 10);
        // Cached: the loader is not asked.
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(11) }).await.unwrap(), 10);
        fresh.changed();
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(12) }).await.unwrap(), 12);
    }

    #[tokio::test]
    async fn an_entry_older_than_the_bound_is_read_again() {
        let age = Duration::from_millis(50);
        let fresh = Freshness::sole_writer(true).with_max_age(age);
        let memo: Memo<u32, u32> = Memo::new(10);
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(1) }).await.unwrap(), 1);
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(2) }).await.unwrap(), 1);
        std::thread::sleep(age + Duration::from_millis(10));
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(3) }).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn unconfirmed_or_stale_confirmation_bypasses_the_cache() {
        let fresh = Freshness::new(true);
        let memo: Memo<u32, u32> = Memo::new(10);
        assert_eq!(fresh.current(), None, "never confirmed");
        fresh.confirm(Instant::now());
        assert!(fresh.current().is_some());
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(1) }).await.unwrap(), 1);
        assert_eq!(memo.get_or(&fresh, 1, async { Ok(2) }).await.unwrap(), 1);
        // A confirmation older than FRESH_FOR no longer counts.
        let old = Freshness::new(true);
        std::thread::sleep(FRESH_FOR + Duration::from_millis(20));
        old.confirm_micros(1);
        assert_eq!(old.current(), None);
        let off = Freshness::sole_writer(false);
        assert_eq!(off.current(), None, "switched off");
    }

    #[tokio::test]
    async fn an_expired_session_is_not_answered_from_memory() {
        use orgbase_domain::{Email, SessionId, User};
        let fresh = Freshness::sole_writer(true);
        let memo: Memo<u32, Option<SessionAuth>> = Memo::new(10);
        let t0 = Timestamp::from_millis(1_000_000);
        let auth = SessionAuth {
            id: SessionId::new(t0),
            token_hash: "h".into(),
            expires_at: Timestamp::from_millis(2_000_000),
            user: User {
                id: UserId::new(t0),
                email: Email::from_trusted("a@example.com".into()),
                name: String::new(),
                is_system_admin: false,
                enabled: true,
                home_org_id: None,
                email_verified_at: None,
                created_at: t0,
                updated_at: t0,
                last_login_at: None,
            },
        };
        let got = memo
            .get_or_at(&fresh, 1, t0, async { Ok(Some(auth.clone())) })
            .await
            .unwrap();
        assert!(got.is_some());
        // Still live: from memory.
        let got = memo
            .get_or_at(&fresh, 1, Timestamp::from_millis(1_500_000), async {
                Ok(None)
            })
            .await
            .unwrap();
        assert!(got.is_some());
        // Past its expiry: asked again.
        let got = memo
            .get_or_at(&fresh, 1, Timestamp::from_millis(2_000_000), async {
                Ok(None)
            })
            .await
            .unwrap();
        assert!(got.is_none());
        // Asked with an earlier `now` than the entry's: asked again.
        let got = memo
            .get_or_at(&fresh, 1, Timestamp::from_millis(10), async {
                Ok(Some(auth.clone()))
            })
            .await
            .unwrap();
        assert!(got.is_some());
    }
}
