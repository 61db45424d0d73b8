//! The mail outbox (ADR 0011).

use async_trait::async_trait;
use orgbase_domain::{MailId, MailStatus, OutboxMail, Page, PageRequest, Timestamp};

use crate::Result;

#[async_trait]
pub trait MailReads: Send + Sync {
    /// Oldest first; `page.after` is the last id seen; only `status` when given.
    async fn outbox(
        &self,
        status: Option<MailStatus>,
        page: PageRequest,
    ) -> Result<Page<OutboxMail>>;
    /// Up to `limit` mails a worker may claim at `now` (see [`OutboxMail::is_due`]),
    /// the most overdue first.
    async fn due_mails(&self, now: Timestamp, limit: i64) -> Result<Vec<OutboxMail>>;
    async fn mail(&self, id: MailId) -> Result<Option<OutboxMail>>;
}

#[async_trait]
pub trait MailWrites: Send {
    async fn insert_mail(&mut self, m: &OutboxMail) -> Result<()>;
    /// Claims a due mail for one attempt: `sending` until `lease_until`, one more
    /// attempt counted. False when it is no longer due (another worker has it, or it
    /// was sent meanwhile): then the caller must not send it.
    async fn claim_mail(
        &mut self,
        id: MailId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool>;
    /// Records the outcome of a claimed attempt: `sent`/`failed` (the link erased) or
    /// `queued` again for `next_attempt_at`. Only while the mail is still `sending`
    /// with the attempt count the claim left (a stale worker changes nothing).
    async fn finish_mail(
        &mut self,
        id: MailId,
        attempts: i32,
        status: MailStatus,
        next_attempt_at: Timestamp,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> Result<bool>;
    /// Replaces the sealed link of a mail (master-key rotation), only while it is still
    /// `expected` (a worker that sent the mail meanwhile erased it: then false).
    async fn reseal_mail_link(&mut self, id: MailId, expected: &str, sealed: &str) -> Result<bool>;
}
