//! The mail outbox for operators: what is queued, sent or given up, and delivering it
//! (the worker runs [`crate::Services::run_mail_worker`]; see ADR 0011).

use orgbase_domain::{MailStatus, OutboxMail, Page, PageRequest};

use crate::Core;
use crate::error::Result;
use crate::shared::authz::Operator;
use crate::shared::mail::DeliveryReport;

/// An outbox row with its link opened, for the operator. The link is the only secret a
/// mail carries; it is gone once the mail is sent or given up.
pub struct OutboxEntry {
    pub mail: OutboxMail,
    pub link: Option<String>,
}

/// The mail outbox.
pub struct Mail<'a>(pub(crate) &'a Core);

impl Mail<'_> {
    /// Whether mail is handed to an SMTP server (else it stays queued).
    pub fn configured(&self) -> bool {
        self.0.mailer.is_some()
    }

    /// The outbox, oldest first, with each mail's link while it still has one. Only the
    /// operator at the console sees it: the links are live credentials.
    pub async fn outbox(
        &self,
        _by: &Operator,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<OutboxEntry>> {
        let status = status.map(str::parse::<MailStatus>).transpose()?;
        let p = self.0.store.outbox(status, page).await?;
        let mut items = Vec::with_capacity(p.items.len());
        for mail in p.items {
            // A link that does not open (another master key) is shown as absent; the
            // listing goes on.
            let link = self.0.open_link(&mail).unwrap_or_else(|e| {
                tracing::warn!(mail = %mail.id, error = %e, "an outbox link does not open");
                None
            });
            items.push(OutboxEntry { mail, link });
        }
        Ok(Page {
            items,
            next_cursor: p.next_cursor,
        })
    }

    /// One delivery pass now (the worker does this on its own; tests and operators may
    /// ask for one).
    pub async fn deliver_due(&self) -> Result<DeliveryReport> {
        self.0.deliver_due().await
    }
}
