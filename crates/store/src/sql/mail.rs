//! The mail outbox (ADR 0011).

use async_trait::async_trait;
use orgbase_domain::{MailId, MailStatus, OutboxMail, Page, PageRequest, Timestamp};
use uuid::Uuid;

use super::rows::{MAIL_COLS, mail_from, overfetch};
use super::{DbConn, SqlTx};
use crate::Result;

pub(crate) async fn outbox(
    c: &mut DbConn,
    status: Option<MailStatus>,
    page: PageRequest,
) -> Result<Page<OutboxMail>> {
    let rows = match status {
        Some(s) => {
            sqlx::query(&format!(
                "SELECT {MAIL_COLS} FROM mail_outbox WHERE id > $1 AND status = $2 \
                 ORDER BY id LIMIT $3"
            ))
            .bind(page.after.unwrap_or(Uuid::nil()))
            .bind(s.as_str())
            .bind(overfetch(page))
            .fetch_all(c)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {MAIL_COLS} FROM mail_outbox WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(page.after.unwrap_or(Uuid::nil()))
            .bind(overfetch(page))
            .fetch_all(c)
            .await?
        }
    };
    let items = rows.iter().map(mail_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |m| m.id.0))
}

pub(crate) async fn due_mails(
    c: &mut DbConn,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<OutboxMail>> {
    let rows = sqlx::query(&format!(
        "SELECT {MAIL_COLS} FROM mail_outbox \
         WHERE (status = 'queued' AND next_attempt_at <= $1) \
            OR (status = 'sending' AND (lease_until IS NULL OR lease_until <= $1)) \
         ORDER BY next_attempt_at, id LIMIT $2"
    ))
    .bind(now.as_millis())
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(mail_from).collect()
}

pub(crate) async fn mail(c: &mut DbConn, id: MailId) -> Result<Option<OutboxMail>> {
    let row = sqlx::query(&format!(
        "SELECT {MAIL_COLS} FROM mail_outbox WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(mail_from).transpose()
}

reads!(MailReads {
    fn outbox(&self, status: Option<MailStatus>, page: PageRequest) -> Page<OutboxMail>;
    fn due_mails(&self, now: Timestamp, limit: i64) -> Vec<OutboxMail>;
    fn mail(&self, id: MailId) -> Option<OutboxMail>;
});

#[async_trait]
impl crate::MailWrites for SqlTx {
    async fn insert_mail(&mut self, m: &OutboxMail) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO mail_outbox ({MAIL_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(m.id.0)
        .bind(m.kind.as_str())
        .bind(m.recipient.as_str())
        .bind(&m.org_name)
        .bind(&m.link_sealed)
        .bind(m.status.as_str())
        .bind(i64::from(m.attempts))
        .bind(m.next_attempt_at.as_millis())
        .bind(m.lease_until.map(Timestamp::as_millis))
        .bind(&m.last_error)
        .bind(m.created_at.as_millis())
        .bind(m.expires_at.as_millis())
        .bind(m.sent_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn claim_mail(
        &mut self,
        id: MailId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = 'sending', lease_until = $1, attempts = attempts + 1 \
             WHERE id = $2 AND ((status = 'queued' AND next_attempt_at <= $3) \
                OR (status = 'sending' AND (lease_until IS NULL OR lease_until <= $3)))",
        )
        .bind(lease_until.as_millis())
        .bind(id.0)
        .bind(now.as_millis())
        .execute(self.c())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish_mail(
        &mut self,
        id: MailId,
        attempts: i32,
        status: MailStatus,
        next_attempt_at: Timestamp,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        let done_with = matches!(status, MailStatus::Sent | MailStatus::Failed);
        let sent_at = (status == MailStatus::Sent).then_some(now.as_millis());
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = $1, next_attempt_at = $2, last_error = $3, \
             sent_at = $4, lease_until = NULL, \
             link_sealed = CASE WHEN $5 THEN '' ELSE link_sealed END \
             WHERE id = $6 AND status = 'sending' AND attempts = $7",
        )
        .bind(status.as_str())
        .bind(next_attempt_at.as_millis())
        .bind(last_error)
        .bind(sent_at)
        .bind(done_with)
        .bind(id.0)
        .bind(i64::from(attempts))
        .execute(self.c())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn reseal_mail_link(&mut self, id: MailId, expected: &str, sealed: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mail_outbox SET link_sealed = $1 WHERE id = $2 AND link_sealed = $3",
        )
        .bind(sealed)
        .bind(id.0)
        .bind(expected)
        .execute(self.c())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
