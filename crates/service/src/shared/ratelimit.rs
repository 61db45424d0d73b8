//! Rate limits for the authentication endpoints (login, sign-up, sign-up key guesses,
//! invitation accepts, the current-password check), counted per client address, per
//! account, and for login per (account, client address) pair.
//!
//! Login is keyed so that a stranger cannot lock the owner out: wrong passwords for an
//! account from one address spend that pair's small budget (and the address's own), not
//! the owner's. A higher per-account ceiling still bounds guessing spread over many
//! addresses, and an attempt refused by its address or pair is not charged to the
//! account. A pair that logged in successfully is remembered for [`KNOWN_PAIR_SECS`]
//! and is exempt from the account ceiling, so even a distributed attack that fills the
//! ceiling does not stop the owner at an address they used before.
//!
//! Algorithm: a token bucket in its GCRA form (one "theoretical arrival time" per key):
//! it needs one integer per key, recovers fully one window after the last attempt, and
//! gives an exact Retry-After. A burst of `max` is allowed, then one attempt every
//! `window / max`; the price is that a rolling window can see up to about `2 * max`.
//!
//! A refused attempt is still charged (hammering never gets cheaper), but a key's debt
//! is capped at one window, so Retry-After is never longer than `window / max`.
//!
//! Memory: expired keys (whose bucket is full again, so dropping them changes nothing)
//! are pruned every [`PRUNE_EVERY_CALLS`] calls and whenever the map is full. At most
//! [`MAX_TRACKED_KEYS`] keys are tracked; when all of them are live, about a tenth are
//! evicted, least-charged first (the keys that owe the smallest share of their window),
//! so a spray of fresh addresses or accounts evicts itself before it can evict the
//! counter of an account under attack. Evicted keys simply start again with a full
//! bucket.
//!
//! Time is always passed in (`now`), never read from a clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use orgbase_domain::Timestamp;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// Most keys tracked at once (across all actions and kinds).
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// Expired keys are pruned every this many calls to [`RateLimiter::check`].
pub const PRUNE_EVERY_CALLS: u64 = 1024;

/// How long a successful (account, client address) pair of a login stays exempt from
/// the per-account ceiling: 30 days.
pub const KNOWN_PAIR_SECS: i64 = 30 * 24 * 3600;

/// Key parts (addresses, accounts) longer than this are replaced by their SHA-256, so a
/// huge submitted value cannot make a huge key. Real e-mails are at most 254 bytes.
const MAX_KEY_PART_BYTES: usize = 256;

/// At `max` attempts per rolling window of `window_secs`. `max == 0` (or
/// `window_secs == 0`) means the limit is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u32,
}

impl Limit {
    /// A limit that never trips.
    pub const DISABLED: Limit = Limit {
        max: 0,
        window_secs: 0,
    };

    pub const fn new(max: u32, window_secs: u32) -> Self {
        Self { max, window_secs }
    }

    pub const fn is_enabled(&self) -> bool {
        self.max > 0 && self.window_secs > 0
    }
}

/// The limits of one action: per client address, per (account, client address) pair,
/// and per account. An attempt is charged to the account only when its address and pair
/// allowed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimits {
    pub per_client: Limit,
    pub per_pair: Limit,
    pub per_account: Limit,
}

impl ActionLimits {
    pub const DISABLED: ActionLimits = ActionLimits {
        per_client: Limit::DISABLED,
        per_pair: Limit::DISABLED,
        per_account: Limit::DISABLED,
    };

    /// Per client and per account, no pair limit.
    pub const fn new(per_client: Limit, per_account: Limit) -> Self {
        Self {
            per_client,
            per_pair: Limit::DISABLED,
            per_account,
        }
    }
}

/// The limits of every rate-limited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub login: ActionLimits,
    pub signup: ActionLimits,
    pub signup_key: ActionLimits,
    pub invitation: ActionLimits,
    pub password_reset: ActionLimits,
    /// Invitation mails (create, resend): per inviting client, and per invited address,
    /// so no inbox can be flooded with invitations.
    pub invitation_mail: ActionLimits,
    /// The current-password check of a password change (the account is the user id).
    pub password_check: ActionLimits,
}

impl RateLimits {
    /// Every limit disabled (for tests and for deployments behind another limiter).
    pub const fn disabled() -> Self {
        Self {
            login: ActionLimits::DISABLED,
            signup: ActionLimits::DISABLED,
            signup_key: ActionLimits::DISABLED,
            invitation: ActionLimits::DISABLED,
            password_reset: ActionLimits::DISABLED,
            invitation_mail: ActionLimits::DISABLED,
            password_check: ActionLimits::DISABLED,
        }
    }

    pub const fn for_action(&self, action: Action) -> ActionLimits {
        match action {
            Action::Login => self.login,
            Action::Signup => self.signup,
            Action::SignupKey => self.signup_key,
            Action::Invitation => self.invitation,
            Action::PasswordReset => self.password_reset,
            Action::InvitationMail => self.invitation_mail,
            Action::PasswordCheck => self.password_check,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        const MINUTE: u32 = 60;
        const HOUR: u32 = 3600;
        Self {
            login: ActionLimits {
                per_client: Limit::new(30, MINUTE),
                // One account from one address: ten tries, then one every 30 s.
                per_pair: Limit::new(10, 5 * MINUTE),
                // The account from everywhere together: a ceiling on spread-out guessing
                // (a hundred, then one every 36 s), which known pairs do not count against.
                per_account: Limit::new(100, HOUR),
            },
            // The address asked for, whether or not it has an account: one inbox
            // cannot be flooded, and the limit says nothing about who exists.
            password_reset: ActionLimits::new(Limit::new(10, HOUR), Limit::new(3, HOUR)),
            // An admin inviting a department in a morning; one address, a few mails.
            invitation_mail: ActionLimits::new(Limit::new(200, HOUR), Limit::new(5, HOUR)),
            // An office behind one address signs up its staff in a morning; the e-mail
            // being signed up: stops one inbox being signed up over and over.
            signup: ActionLimits::new(Limit::new(30, HOUR), Limit::new(5, HOUR)),
            signup_key: ActionLimits::new(Limit::new(20, HOUR), Limit::new(10, HOUR)),
            invitation: ActionLimits::new(Limit::new(20, HOUR), Limit::new(10, HOUR)),
            // A stolen session must not brute-force the password: five tries, then one
            // every three minutes, from anywhere.
            password_check: ActionLimits::new(Limit::DISABLED, Limit::new(5, 15 * MINUTE)),
        }
    }
}

/// What is being attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    Signup,
    SignupKey,
    Invitation,
    PasswordReset,
    InvitationMail,
    PasswordCheck,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Signup => "signup",
            Action::SignupKey => "signup_key",
            Action::Invitation => "invitation",
            Action::PasswordReset => "password_reset",
            Action::InvitationMail => "invitation_mail",
            Action::PasswordCheck => "password_check",
        }
    }
}

/// Counts attempts and refuses those over a limit. Clones share the same counters, so
/// build one at start and hand clones around.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    limits: RateLimits,
    max_keys: usize,
    state: Mutex<State>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.inner.limits)
            .field("max_keys", &self.inner.max_keys)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self::with_max_keys(limits, MAX_TRACKED_KEYS)
    }

    /// Like [`RateLimiter::new`] with a different cap on tracked keys (at least 2).
    pub fn with_max_keys(limits: RateLimits, max_keys: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                limits,
                max_keys: max_keys.max(2),
                state: Mutex::new(State::default()),
            }),
        }
    }

    pub fn limits(&self) -> &RateLimits {
        &self.inner.limits
    }

    /// Number of keys currently tracked (for metrics and tests).
    pub fn tracked_keys(&self) -> usize {
        self.lock().map.len()
    }

    /// Counts one attempt of `action` from the client address for the account (each
    /// when given, non-blank and its limit enabled). The address and, when both are
    /// known, the (account, address) pair are charged first; only when both allow the
    /// attempt is the account charged too, unless the pair is a known one (see
    /// [`RateLimiter::succeeded`]). Refuses with [`Error::TooManyRequests`] when any
    /// charged key is over its limit. `retry_after_secs` is at least 1 and at most the
    /// longest `window / max` of the limits involved.
    pub fn check(
        &self,
        action: Action,
        client: Option<&str>,
        account: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Error> {
        let limits = self.inner.limits.for_action(action);
        let client_part = client.and_then(normalize_client);
        let account_part = account.and_then(normalize_account);
        let pair_part = match (&account_part, &client_part) {
            (Some(a), Some(c)) => Some(pair(a, c)),
            _ => None,
        };
        let first = [
            keyed(
                action,
                KIND_CLIENT,
                client_part.as_deref(),
                limits.per_client,
            ),
            keyed(action, KIND_PAIR, pair_part.as_deref(), limits.per_pair),
        ];
        let account_key = keyed(
            action,
            KIND_ACCOUNT,
            account_part.as_deref(),
            limits.per_account,
        );
        let incoming = first.iter().flatten().count() + usize::from(account_key.is_some());
        if incoming == 0 {
            return Ok(());
        }
        let now = now.as_millis();

        let mut state = self.lock();
        state.make_room(now, self.inner.max_keys, incoming);
        let mut refused = false;
        let mut wait_ms = 0i64;
        for (key, limit) in first.into_iter().flatten() {
            let outcome = state.charge(key, limit, now);
            refused |= !outcome.allowed;
            wait_ms = wait_ms.max(outcome.wait_ms);
        }
        let known = limits.per_pair.is_enabled()
            && pair_part
                .as_deref()
                .is_some_and(|p| state.is_live(&make_key(action, KIND_KNOWN, p), now));
        if !refused
            && !known
            && let Some((key, limit)) = account_key
        {
            let outcome = state.charge(key, limit, now);
            refused |= !outcome.allowed;
            wait_ms = wait_ms.max(outcome.wait_ms);
        }
        drop(state);

        if refused {
            Err(Error::TooManyRequests {
                retry_after_secs: millis_to_retry_secs(wait_ms),
            })
        } else {
            Ok(())
        }
    }

    /// Forgets the per-account counter of `action` for `account` (after a successful
    /// attempt, so a user who mistyped a few times is not penalized later). The
    /// per-address counter is left alone.
    pub fn reset(&self, action: Action, account: &str) {
        if let Some(part) = normalize_account(account) {
            let key = make_key(action, KIND_ACCOUNT, &part);
            self.lock().map.remove(&key);
        }
    }

    /// A successful attempt (a login with the right password). For actions with a pair
    /// limit: forgets the pair's counter and remembers the pair as known for
    /// [`KNOWN_PAIR_SECS`], exempt from the account ceiling; the ceiling itself is left
    /// alone, so the owner logging in does not give a distributed guesser a fresh budget.
    /// For other actions: [`RateLimiter::reset`].
    pub fn succeeded(&self, action: Action, account: &str, client: Option<&str>, now: Timestamp) {
        let limits = self.inner.limits.for_action(action);
        if !limits.per_pair.is_enabled() {
            self.reset(action, account);
            return;
        }
        let (Some(a), Some(c)) = (
            normalize_account(account),
            client.and_then(normalize_client),
        ) else {
            return;
        };
        let part = pair(&a, &c);
        let window_ms = KNOWN_PAIR_SECS * 1000;
        let now = now.as_millis();
        let mut state = self.lock();
        state.map.remove(&make_key(action, KIND_PAIR, &part));
        state.make_room(now, self.inner.max_keys, 1);
        state.map.insert(
            make_key(action, KIND_KNOWN, &part),
            Entry {
                tat: now.saturating_add(window_ms),
                window_ms,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement, so a poisoned lock is safe to use.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

const KIND_CLIENT: &str = "ip";
const KIND_ACCOUNT: &str = "acct";
const KIND_PAIR: &str = "pair";
const KIND_KNOWN: &str = "known";

/// The key part of an (account, client) pair. `\n` occurs in neither.
fn pair(account: &str, client: &str) -> String {
    format!("{account}\n{client}")
}

fn keyed(action: Action, kind: &str, part: Option<&str>, limit: Limit) -> Option<(String, Limit)> {
    if !limit.is_enabled() {
        return None;
    }
    Some((make_key(action, kind, part?), limit))
}

/// Addresses: trimmed, ASCII lower-cased (IPv6 hex digits). Blank means "unknown".
fn normalize_client(raw: &str) -> Option<String> {
    let s = raw.trim();
    (!s.is_empty()).then(|| s.to_ascii_lowercase())
}

/// Accounts: trimmed and lower-cased like [`orgbase_domain::Email`], so case variants
/// of one e-mail share a counter. Blank means "unknown".
fn normalize_account(raw: &str) -> Option<String> {
    let s = raw.trim();
    (!s.is_empty()).then(|| s.to_lowercase())
}

fn make_key(action: Action, kind: &str, part: &str) -> String {
    if part.len() > MAX_KEY_PART_BYTES {
        format!(
            "{}|{kind}|sha256:{}",
            action.as_str(),
            hex(&Sha256::digest(part.as_bytes()))
        )
    } else {
        format!("{}|{kind}|{part}", action.as_str())
    }
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn millis_to_retry_secs(ms: i64) -> u64 {
    let secs = ms.saturating_add(999) / 1000;
    u64::try_from(secs).unwrap_or(0).max(1)
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Theoretical arrival time (ms): the bucket is full again at this instant. Kept
    /// within `(now, now + window_ms]`; at or before `now` the entry is expired.
    tat: i64,
    window_ms: i64,
}

impl Entry {
    /// Share of the window this key still owes, in 1/1024ths (0 = expired, 1024 = the
    /// whole burst is spent). Used to pick eviction victims.
    fn owed(&self, now: i64) -> i64 {
        if self.window_ms <= 0 {
            return 0;
        }
        let owed = self.tat.saturating_sub(now).clamp(0, self.window_ms);
        // owed <= window_ms <= u32::MAX * 1000, so the product fits in i64.
        owed * 1024 / self.window_ms
    }
}

struct Outcome {
    allowed: bool,
    /// Milliseconds until this key would allow another attempt.
    wait_ms: i64,
}

#[derive(Default)]
struct State {
    map: HashMap<String, Entry>,
    calls: u64,
}

impl State {
    /// Periodic pruning, and room for `incoming` new keys under `max_keys`.
    fn make_room(&mut self, now: i64, max_keys: usize, incoming: usize) {
        self.calls = self.calls.wrapping_add(1);
        if self.calls.is_multiple_of(PRUNE_EVERY_CALLS) {
            self.prune_expired(now);
        }
        if self.map.len() + incoming <= max_keys {
            return;
        }
        self.prune_expired(now);
        let len = self.map.len();
        if len + incoming > max_keys {
            // Evict a batch, not just enough for this call, so a spray does not pay a
            // full scan on every call.
            let count = (len + incoming - max_keys + max_keys / 10).min(len);
            self.evict_least_owing(now, count);
        }
    }

    /// Whether `key` is tracked and not yet expired.
    fn is_live(&self, key: &str, now: i64) -> bool {
        self.map.get(key).is_some_and(|e| e.tat > now)
    }

    /// Drops keys whose bucket is full again: forgetting them changes no decision.
    fn prune_expired(&mut self, now: i64) {
        self.map.retain(|_, e| e.tat > now);
    }

    /// Drops exactly `count` keys, those owing the smallest share of their window first
    /// (ties in arbitrary order).
    fn evict_least_owing(&mut self, now: i64, count: usize) {
        if count == 0 {
            return;
        }
        if count >= self.map.len() {
            self.map.clear();
            return;
        }
        let mut owed: Vec<i64> = self.map.values().map(|e| e.owed(now)).collect();
        let (_, threshold, _) = owed.select_nth_unstable(count - 1);
        let threshold = *threshold;
        let below = owed.iter().filter(|o| **o < threshold).count();
        let mut ties = count - below;
        self.map.retain(|_, e| {
            let o = e.owed(now);
            if o < threshold {
                false
            } else if o == threshold && ties > 0 {
                ties -= 1;
                false
            } else {
                true
            }
        });
    }

    /// Charges one attempt to `key` (GCRA). `limit` must be enabled.
    fn charge(&mut self, key: String, limit: Limit, now: i64) -> Outcome {
        let window_ms = i64::from(limit.window_secs) * 1000;
        let max = i64::from(limit.max.max(1));
        // Time one attempt "costs": the bucket refills one token per interval.
        let interval = (window_ms + max - 1) / max;
        let ceiling = now.saturating_add(window_ms);

        let entry = self.map.entry(key).or_insert(Entry {
            tat: now,
            window_ms,
        });
        // Clamping also keeps a clock that went backwards from producing a long wait.
        let tat = entry.tat.clamp(now, ceiling);
        let next = tat.saturating_add(interval);
        let allowed = next <= ceiling;
        // Refused attempts are charged too, but the debt never exceeds one window.
        let tat = next.min(ceiling);
        entry.tat = tat;
        entry.window_ms = window_ms;

        // The next attempt is allowed once `tat + interval <= t + window_ms`.
        let wait_ms = tat.saturating_add(interval).saturating_sub(ceiling).max(0);
        Outcome { allowed, wait_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(T0 + secs * 1000)
    }

    fn at_ms(ms: i64) -> Timestamp {
        Timestamp::from_millis(T0 + ms)
    }

    fn retry_after(r: Result<(), Error>) -> u64 {
        match r {
            Err(Error::TooManyRequests { retry_after_secs }) => retry_after_secs,
            other => panic!("expected TooManyRequests, got {other:?}"),
        }
    }

    fn only_login(per_client: Limit, per_account: Limit) -> RateLimiter {
        RateLimiter::new(RateLimits {
            login: ActionLimits::new(per_client, per_account),
            ..RateLimits::disabled()
        })
    }

    #[test]
    fn trips_at_max_plus_one() {
        let rl = RateLimiter::new(RateLimits::default());
        for i in 0..100 {
            assert!(
                rl.check(Action::Login, None, Some("alice@example.com"), at(0))
                    .is_ok(),
                "attempt {i}"
            );
        }
        let err = rl
            .check(Action::Login, None, Some("alice@example.com"), at(0))
            .unwrap_err();
        assert_eq!(err.kind(), orgbase_domain::ErrorKind::RateLimited);
        assert_eq!(err.code(), "rate_limited");
    }

    #[test]
    fn a_stranger_cannot_lock_the_owner_out() {
        let rl = RateLimiter::new(RateLimits::default());
        let owner = Some("owner@example.com");
        // The owner logged in before from home.
        rl.check(Action::Login, Some("198.51.100.7"), owner, at(0))
            .unwrap();
        rl.succeeded(
            Action::Login,
            "Owner@example.com",
            Some("198.51.100.7"),
            at(0),
        );
        // A stranger from one address: ten tries, then refused, and hammering on does
        // not reach the account's counter.
        for _ in 0..10 {
            rl.check(Action::Login, Some("203.0.113.1"), owner, at(1))
                .unwrap();
        }
        for _ in 0..50 {
            retry_after(rl.check(Action::Login, Some("203.0.113.1"), owner, at(1)));
        }
        // The owner from a new address is fine (the account has 89 of 100 left)...
        rl.check(Action::Login, Some("192.0.2.55"), owner, at(1))
            .unwrap();
        // ...until a stranger with many addresses spends the account's ceiling:
        for i in 0..20 {
            let ip = format!("203.0.113.{}", 10 + i);
            for _ in 0..10 {
                let _ = rl.check(Action::Login, Some(&ip), owner, at(2));
            }
        }
        retry_after(rl.check(Action::Login, Some("192.0.2.99"), owner, at(2)));
        // The owner at the address they used before still gets in, as often as the
        // pair allows.
        for _ in 0..10 {
            rl.check(Action::Login, Some("198.51.100.7"), owner, at(2))
                .unwrap();
        }
        retry_after(rl.check(Action::Login, Some("198.51.100.7"), owner, at(2)));
        // A known pair expires.
        let later = KNOWN_PAIR_SECS + 10;
        for i in 0..100 {
            let _ = rl.check(
                Action::Login,
                Some(&format!("10.9.9.{i}")),
                owner,
                at(later),
            );
        }
        retry_after(rl.check(Action::Login, Some("198.51.100.7"), owner, at(later)));
    }

    #[test]
    fn the_current_password_check_is_limited_per_account() {
        let rl = RateLimiter::new(RateLimits::default());
        for i in 0..5 {
            rl.check(
                Action::PasswordCheck,
                Some(&format!("10.0.0.{i}")),
                Some("user-id-1"),
                at(0),
            )
            .unwrap();
        }
        retry_after(rl.check(
            Action::PasswordCheck,
            Some("10.0.0.99"),
            Some("user-id-1"),
            at(0),
        ));
        rl.check(
            Action::PasswordCheck,
            Some("10.0.0.99"),
            Some("user-id-2"),
            at(0),
        )
        .unwrap();
        // One more every three minutes.
        rl.check(Action::PasswordCheck, None, Some("user-id-1"), at(180))
            .unwrap();
        retry_after(rl.check(Action::PasswordCheck, None, Some("user-id-1"), at(180)));
    }

    #[test]
    fn per_address_trips_at_max_plus_one() {
        let rl = RateLimiter::new(RateLimits::default());
        for i in 0..30 {
            let acct = format!("user{i}@example.com");
            assert!(
                rl.check(Action::Login, Some("1.2.3.4"), Some(&acct), at(0))
                    .is_ok()
            );
        }
        retry_after(rl.check(
            Action::Login,
            Some("1.2.3.4"),
            Some("new@example.com"),
            at(0),
        ));
    }

    #[test]
    fn retry_after_is_sensible_and_bounded() {
        // 10 per 60 s: one attempt every 6 s once the burst is spent.
        let rl = only_login(Limit::DISABLED, Limit::new(10, 60));
        for _ in 0..10 {
            rl.check(Action::Login, None, Some("a"), at(0)).unwrap();
        }
        let wait = retry_after(rl.check(Action::Login, None, Some("a"), at(0)));
        assert_eq!(wait, 6);

        // Hammering never pushes Retry-After past the window.
        for i in 0..1000 {
            let wait = retry_after(rl.check(Action::Login, None, Some("a"), at_ms(i)));
            assert!((1..=60).contains(&wait), "wait {wait}");
        }

        // Obeying Retry-After works: exactly one attempt, then refused again.
        let last = 999;
        let wait = retry_after(rl.check(Action::Login, None, Some("a"), at_ms(last)));
        let t = last + i64::try_from(wait).unwrap() * 1000;
        rl.check(Action::Login, None, Some("a"), at_ms(t)).unwrap();
        retry_after(rl.check(Action::Login, None, Some("a"), at_ms(t)));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        // 1000 per second: an interval of 1 ms still reports 1 s.
        let rl = only_login(Limit::DISABLED, Limit::new(1000, 1));
        for _ in 0..1000 {
            rl.check(Action::Login, None, Some("a"), at(0)).unwrap();
        }
        assert_eq!(
            retry_after(rl.check(Action::Login, None, Some("a"), at(0))),
            1
        );
    }

    #[test]
    fn refused_attempts_still_count() {
        let rl = only_login(Limit::DISABLED, Limit::new(10, 60));
        for _ in 0..10 {
            rl.check(Action::Login, None, Some("a"), at(0)).unwrap();
        }
        // Told to wait 6 s; trying again at 3 s is refused and charged, so 6 s is
        // still too early.
        assert_eq!(
            retry_after(rl.check(Action::Login, None, Some("a"), at(0))),
            6
        );
        assert_eq!(
            retry_after(rl.check(Action::Login, None, Some("a"), at(3))),
            6
        );
        retry_after(rl.check(Action::Login, None, Some("a"), at(6)));
        // A client that keeps hammering every second never gets through.
        for s in 7..200 {
            retry_after(rl.check(Action::Login, None, Some("a"), at(s)));
        }
        // Backing off for the advertised interval does.
        rl.check(Action::Login, None, Some("a"), at(199 + 6))
            .unwrap();
    }

    #[test]
    fn recovers_after_the_window() {
        let rl = RateLimiter::new(RateLimits {
            signup: ActionLimits::new(Limit::new(10, 3600), Limit::DISABLED),
            ..RateLimits::disabled()
        });
        let go = |s| rl.check(Action::Signup, Some("10.0.0.1"), None, at(s));
        for _ in 0..10 {
            go(0).unwrap();
        }
        // One attempt refills every 3600 / 10 = 360 s.
        assert_eq!(retry_after(go(0)), 360);
        go(360).unwrap();
        retry_after(go(360));
        // A whole window after the last charge the full burst is available again.
        for _ in 0..10 {
            go(360 + 3600).unwrap();
        }
        retry_after(go(360 + 3600));
    }

    #[test]
    fn per_account_and_per_address_are_independent() {
        let rl = only_login(Limit::new(5, 60), Limit::new(3, 60));
        // Account limit trips for alice from any address...
        for _ in 0..3 {
            rl.check(Action::Login, Some("1.1.1.1"), Some("alice"), at(0))
                .unwrap();
        }
        retry_after(rl.check(Action::Login, Some("2.2.2.2"), Some("alice"), at(0)));
        // ...while other accounts from the first address are still fine (5 of 5 used).
        rl.check(Action::Login, Some("1.1.1.1"), Some("bob"), at(0))
            .unwrap();
        rl.check(Action::Login, Some("1.1.1.1"), Some("dave"), at(0))
            .unwrap();
        // Then the address limit trips for any account.
        retry_after(rl.check(Action::Login, Some("1.1.1.1"), Some("carol"), at(0)));
        // And carol from elsewhere is untouched by both.
        rl.check(Action::Login, Some("3.3.3.3"), Some("carol"), at(0))
            .unwrap();
    }

    #[test]
    fn actions_are_independent() {
        let rl = RateLimiter::new(RateLimits::default());
        for _ in 0..10 {
            rl.check(Action::Login, Some("1.1.1.1"), Some("a@x.io"), at(0))
                .unwrap();
        }
        retry_after(rl.check(Action::Login, Some("1.1.1.1"), Some("a@x.io"), at(0)));
        rl.check(Action::Signup, Some("1.1.1.1"), Some("a@x.io"), at(0))
            .unwrap();
        rl.check(Action::SignupKey, Some("1.1.1.1"), Some("a@x.io"), at(0))
            .unwrap();
        rl.check(Action::Invitation, Some("1.1.1.1"), Some("a@x.io"), at(0))
            .unwrap();
    }

    #[test]
    fn disabled_limits_never_trip() {
        let rl = RateLimiter::new(RateLimits::disabled());
        for _ in 0..10_000 {
            for action in [
                Action::Login,
                Action::Signup,
                Action::SignupKey,
                Action::Invitation,
            ] {
                rl.check(action, Some("1.1.1.1"), Some("a"), at(0)).unwrap();
            }
        }
        assert_eq!(rl.tracked_keys(), 0);

        // A zero window disables too; and a disabled half leaves the other half working.
        let rl = only_login(Limit::new(5, 0), Limit::new(0, 60));
        for _ in 0..1000 {
            rl.check(Action::Login, Some("1.1.1.1"), Some("a"), at(0))
                .unwrap();
        }
        let rl = only_login(Limit::DISABLED, Limit::new(2, 60));
        for i in 0..1000 {
            let ip = format!("10.0.{}.{}", i / 256, i % 256);
            rl.check(Action::Login, Some(&ip), Some(&format!("u{i}")), at(0))
                .unwrap();
        }
    }

    #[test]
    fn missing_or_blank_keys_are_not_counted() {
        let rl = RateLimiter::new(RateLimits::default());
        for _ in 0..1000 {
            rl.check(Action::Login, None, None, at(0)).unwrap();
            rl.check(Action::Login, Some("  "), Some(""), at(0))
                .unwrap();
        }
        assert_eq!(rl.tracked_keys(), 0);
    }

    #[test]
    fn reset_clears_the_account_counter_only() {
        let rl = only_login(Limit::new(6, 60), Limit::new(3, 60));
        for _ in 0..3 {
            rl.check(Action::Login, Some("1.1.1.1"), Some("alice"), at(0))
                .unwrap();
        }
        retry_after(rl.check(Action::Login, Some("1.1.1.1"), Some("alice"), at(0)));
        rl.reset(Action::Login, "Alice");
        // Account counter is fresh: two more attempts pass...
        for _ in 0..2 {
            rl.check(Action::Login, Some("1.1.1.1"), Some("alice"), at(0))
                .unwrap();
        }
        // ...until the address counter, untouched by reset, trips (4 + 2 = 6 used).
        retry_after(rl.check(Action::Login, Some("1.1.1.1"), Some("alice"), at(0)));
        // Resetting another action or an unknown account is harmless.
        rl.reset(Action::Signup, "alice");
        rl.reset(Action::Login, "nobody");
        rl.reset(Action::Login, "");
    }

    #[test]
    fn accounts_are_case_insensitive() {
        let rl = only_login(Limit::DISABLED, Limit::new(2, 60));
        rl.check(Action::Login, None, Some("Alice@Example.com"), at(0))
            .unwrap();
        rl.check(Action::Login, None, Some(" alice@example.com "), at(0))
            .unwrap();
        retry_after(rl.check(Action::Login, None, Some("ALICE@EXAMPLE.COM"), at(0)));
    }

    #[test]
    fn long_values_are_hashed_into_short_keys() {
        let rl = only_login(Limit::DISABLED, Limit::new(1, 60));
        let long_a = "a".repeat(10_000);
        let long_b = format!("{}b", "a".repeat(9_999));
        rl.check(Action::Login, None, Some(&long_a), at(0)).unwrap();
        rl.check(Action::Login, None, Some(&long_b), at(0)).unwrap();
        retry_after(rl.check(Action::Login, None, Some(&long_a), at(0)));
        let state = rl.lock();
        assert_eq!(state.map.len(), 2);
        assert!(
            state.map.keys().all(|k| k.len() < 100),
            "{:?}",
            state.map.keys()
        );
    }

    #[test]
    fn clock_going_backwards_keeps_retry_after_bounded() {
        let rl = only_login(Limit::DISABLED, Limit::new(10, 60));
        for _ in 0..10 {
            rl.check(Action::Login, None, Some("a"), at(1000)).unwrap();
        }
        let wait = retry_after(rl.check(Action::Login, None, Some("a"), at(0)));
        assert!((1..=60).contains(&wait));
    }

    #[test]
    fn stays_bounded_under_a_spray_of_distinct_keys() {
        let rl = RateLimiter::new(RateLimits::default());
        // An account under attack: its whole burst is spent.
        for _ in 0..100 {
            rl.check(Action::Login, None, Some("victim@example.com"), at(0))
                .unwrap();
        }
        // 200,000 distinct addresses and 200,000 distinct accounts, none expiring.
        for i in 0..200_000u32 {
            let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 0xff, i & 0xff);
            let acct = format!("user{i}@example.com");
            let _ = rl.check(Action::Login, Some(&ip), Some(&acct), at(1));
            if i % 997 == 0 {
                assert!(rl.tracked_keys() <= MAX_TRACKED_KEYS);
            }
        }
        assert!(rl.tracked_keys() <= MAX_TRACKED_KEYS);
        assert!(rl.tracked_keys() > MAX_TRACKED_KEYS / 2);
        // Eviction took the least-charged keys: the attacked account is still limited.
        retry_after(rl.check(Action::Login, None, Some("victim@example.com"), at(2)));
    }

    #[test]
    fn expired_keys_are_pruned() {
        let rl = RateLimiter::new(RateLimits::default());
        for i in 0..5_000u32 {
            let _ = rl.check(Action::Login, Some(&format!("ip{i}")), None, at(0));
        }
        assert_eq!(rl.tracked_keys(), 5_000);
        // A window later every bucket is full again; the periodic prune drops them.
        let calls = usize::try_from(PRUNE_EVERY_CALLS).unwrap();
        for _ in 0..calls {
            rl.check(Action::Login, Some("steady"), None, at(61)).ok();
        }
        assert!(rl.tracked_keys() <= 1, "{}", rl.tracked_keys());
    }

    #[test]
    fn small_cap_is_respected() {
        let rl = RateLimiter::with_max_keys(RateLimits::default(), 10);
        for i in 0..1000u32 {
            let _ = rl.check(
                Action::Login,
                Some(&format!("ip{i}")),
                Some(&format!("acct{i}")),
                at(0),
            );
            assert!(rl.tracked_keys() <= 10);
        }
    }

    #[test]
    fn clones_share_counters() {
        let rl = only_login(Limit::DISABLED, Limit::new(1, 60));
        let other = rl.clone();
        rl.check(Action::Login, None, Some("a"), at(0)).unwrap();
        retry_after(other.check(Action::Login, None, Some("a"), at(0)));
    }

    #[test]
    fn poisoned_lock_is_recovered() {
        let rl = only_login(Limit::DISABLED, Limit::new(1, 60));
        let rl2 = rl.clone();
        let _ = std::thread::spawn(move || {
            let _guard = rl2.lock();
            panic!("poison the lock");
        })
        .join();
        rl.check(Action::Login, None, Some("a"), at(0)).unwrap();
        retry_after(rl.check(Action::Login, None, Some("a"), at(0)));
    }
}
