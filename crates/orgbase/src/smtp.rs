//! The SMTP side of mail (ADR 0011): lettre over tokio with rustls, from
//! `ORGBASE_SMTP_URL`. The outbox, templates and retries are the service's; this only
//! hands one rendered message to the server.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use orgbase_domain::Email;
use orgbase_service::{Mailer, Rendered};

use crate::server::redact;

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// A mailer for `url` (smtp:// plain or with `?tls=required` STARTTLS; smtps://
    /// TLS), sending as `from`. Connects only when a mail is sent.
    pub fn new(url: &str, from: &str, timeout: Duration) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("ORGBASE_SMTP_URL ({}): {e}", redact(url)))?
            .timeout(Some(timeout))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("ORGBASE_MAIL_FROM ({from:?}): {e}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for Smtp {
    async fn send(&self, to: &Email, mail: &Rendered) -> Result<(), String> {
        let to: Mailbox = to.as_str().parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
