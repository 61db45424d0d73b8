//! Mail: what a change queues ([`MailOut`], through `Change::enqueue_mail`), the
//! templates that turn an outbox row into a message, the [`Mailer`] that hands it to
//! an SMTP server (implemented by the binary), and one delivery pass of the worker
//! (ADR 0011).
//!
//! A mail carries exactly one link, the one it exists for; templates can place it but
//! add no other value that is secret. The link is stored sealed with the master key and
//! erased once the mail is sent or given up; it is never logged.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use orgbase_domain::{Email, MailId, MailKind, MailStatus, OutboxMail, Timestamp};

use crate::Core;
use crate::error::{Error, Result};

/// A mail to queue: its kind, recipient, the org it speaks for, its one link, and when
/// that link stops working.
#[derive(Debug, Clone)]
pub(crate) struct MailOut {
    pub kind: MailKind,
    pub to: Email,
    pub org_name: Option<String>,
    pub link: String,
    pub expires_at: Timestamp,
}

/// The context a mail's link is sealed under: bound to its row.
pub(crate) fn link_context(id: MailId) -> String {
    format!("mail:{id}")
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Hands a rendered mail to an SMTP server (the binary's `smtp` module).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one message. An error is retried later; its text is logged and stored, so
    /// it must not contain the message.
    async fn send(&self, to: &Email, mail: &Rendered) -> std::result::Result<(), String>;
}

/// The subject, text and HTML template of each kind of mail. Placeholders:
/// `{{org_name}}`, `{{recipient}}` and `{{link}}` (escaped in HTML); text and HTML must
/// each contain `{{link}}`, the subject must not.
#[derive(Debug, Clone)]
pub struct Templates {
    invitation: [String; 3],
    password_reset: [String; 3],
    email_verification: [String; 3],
    account_created: [String; 3],
}

const FILES: [&str; 3] = ["subject.txt", "body.txt", "body.html"];

impl Default for Templates {
    fn default() -> Self {
        let own = |a: [&str; 3]| a.map(str::to_string);
        Self {
            invitation: own([
                include_str!("../../templates/invitation/subject.txt"),
                include_str!("../../templates/invitation/body.txt"),
                include_str!("../../templates/invitation/body.html"),
            ]),
            password_reset: own([
                include_str!("../../templates/password_reset/subject.txt"),
                include_str!("../../templates/password_reset/body.txt"),
                include_str!("../../templates/password_reset/body.html"),
            ]),
            email_verification: own([
                include_str!("../../templates/email_verification/subject.txt"),
                include_str!("../../templates/email_verification/body.txt"),
                include_str!("../../templates/email_verification/body.html"),
            ]),
            account_created: own([
                include_str!("../../templates/account_created/subject.txt"),
                include_str!("../../templates/account_created/body.txt"),
                include_str!("../../templates/account_created/body.html"),
            ]),
        }
    }
}

impl Templates {
    /// The built-in templates, each replaced by a file of `dir` when it exists:
    /// `<kind>/subject.txt`, `<kind>/body.txt`, `<kind>/body.html` with kind
    /// `invitation`, `password_reset`, `email_verification` or `account_created`. Checks every template.
    pub fn load(dir: Option<&Path>) -> std::result::Result<Self, String> {
        let mut t = Self::default();
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(format!("{} is not a directory", dir.display()));
            }
            for kind in MailKind::ALL {
                for (i, file) in FILES.iter().enumerate() {
                    let path = dir.join(kind.as_str()).join(file);
                    if path.exists() {
                        let text = std::fs::read_to_string(&path)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        t.of_mut(*kind)[i] = text;
                    }
                }
            }
        }
        for kind in MailKind::ALL {
            let [subject, text, html] = t.of(*kind);
            let name = kind.as_str();
            if subject.contains("{{link}}") {
                return Err(format!("{name}/subject.txt must not contain {{{{link}}}}"));
            }
            for (file, body) in [("body.txt", text), ("body.html", html)] {
                if !body.contains("{{link}}") {
                    return Err(format!("{name}/{file} must contain {{{{link}}}}"));
                }
            }
        }
        Ok(t)
    }

    fn of(&self, kind: MailKind) -> &[String; 3] {
        match kind {
            MailKind::Invitation => &self.invitation,
            MailKind::PasswordReset => &self.password_reset,
            MailKind::EmailVerification => &self.email_verification,
            MailKind::AccountCreated => &self.account_created,
        }
    }

    fn of_mut(&mut self, kind: MailKind) -> &mut [String; 3] {
        match kind {
            MailKind::Invitation => &mut self.invitation,
            MailKind::PasswordReset => &mut self.password_reset,
            MailKind::EmailVerification => &mut self.email_verification,
            MailKind::AccountCreated => &mut self.account_created,
        }
    }

    /// The mail of `kind` for `to`, from `org_name`, with its one `link`.
    pub fn render(&self, kind: MailKind, org_name: &str, to: &Email, link: &str) -> Rendered {
        let [subject, text, html] = self.of(kind);
        let fill = |tpl: &str, esc: fn(&str) -> String| {
            tpl.replace("{{org_name}}", &esc(org_name))
                .replace("{{recipient}}", &esc(to.as_str()))
                .replace("{{link}}", &esc(link))
        };
        // A header is one line: no line breaks from an org's name.
        let one_line = |s: &str| s.replace(['\r', '\n'], " ");
        Rendered {
            subject: one_line(fill(subject, str::to_string).trim()),
            text: fill(text, str::to_string),
            html: fill(html, escape_html),
        }
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How the outbox is worked.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Seconds before the first retry; doubles after each failed attempt.
    pub retry_base_secs: i64,
    /// Longest wait between two attempts.
    pub retry_max_secs: i64,
    /// Attempts before a mail is given up (it is also given up when its link expired).
    pub max_attempts: i32,
    /// How long a claimed mail belongs to its worker; after that another may retry it.
    /// Longer than one SMTP exchange can take (the SMTP timeout).
    pub lease_secs: i64,
    /// How often the worker looks for due mails when nothing wakes it.
    pub poll_ms: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            retry_base_secs: 30,
            retry_max_secs: 3600,
            max_attempts: 12,
            lease_secs: 300,
            poll_ms: 5000,
        }
    }
}

impl MailSettings {
    /// The wait after the `attempts`-th failed attempt: base, 2 × base, 4 × base, ...
    pub fn backoff_secs(&self, attempts: i32) -> i64 {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(0);
        self.retry_base_secs
            .max(1)
            .saturating_mul(1i64 << doublings)
            .min(self.retry_max_secs.max(1))
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Mails claimed per pass.
const BATCH: i64 = 20;

impl Core {
    /// One pass of the worker: claims each due mail (its own committed write), sends
    /// it, and records the outcome (another committed write). A mail recorded `sent` is
    /// never claimed again; one whose worker died before recording is retried after its
    /// lease (ADR 0011).
    pub(crate) async fn deliver_due(&self) -> Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        let Some(mailer) = self.mailer.clone() else {
            return Ok(report);
        };
        let now = self.clock.now();
        for m in self.store.due_mails(now, BATCH).await? {
            let lease_until = now.plus_seconds(self.mail.lease_secs);
            let mut tx = self.store.begin().await?;
            if !tx.claim_mail(m.id, now, lease_until).await? {
                continue;
            }
            tx.commit().await?;
            let attempts = m.attempts.saturating_add(1);
            let outcome = self.attempt(&mailer, &m, now).await;
            let done = self.clock.now();
            let (status, next, error) = match outcome {
                Attempt::Sent => {
                    tracing::info!(mail = %m.id, kind = m.kind.as_str(), attempts, "mail sent");
                    report.sent += 1;
                    (MailStatus::Sent, done, None)
                }
                Attempt::GiveUp(why) => {
                    tracing::warn!(mail = %m.id, kind = m.kind.as_str(), attempts, error = %why, "mail given up");
                    report.failed += 1;
                    (MailStatus::Failed, done, Some(why))
                }
                Attempt::Retry(why) if attempts >= self.mail.max_attempts => {
                    tracing::warn!(mail = %m.id, kind = m.kind.as_str(), attempts, error = %why, "mail given up after its last attempt");
                    report.failed += 1;
                    (MailStatus::Failed, done, Some(why))
                }
                Attempt::Retry(why) => {
                    let wait = self.mail.backoff_secs(attempts);
                    tracing::warn!(mail = %m.id, kind = m.kind.as_str(), attempts, retry_in_secs = wait, error = %why, "mail not delivered; will retry");
                    report.retried += 1;
                    (MailStatus::Queued, done.plus_seconds(wait), Some(why))
                }
            };
            let mut tx = self.store.begin().await?;
            let error = error.map(|e| truncate(&e, 500));
            if tx
                .finish_mail(m.id, attempts, status, next, error.as_deref(), done)
                .await?
            {
                tx.commit().await?;
            } else {
                tracing::warn!(mail = %m.id, "mail changed while it was being sent (lease ran out?)");
            }
        }
        Ok(report)
    }

    async fn attempt(&self, mailer: &Arc<dyn Mailer>, m: &OutboxMail, now: Timestamp) -> Attempt {
        if m.expires_at <= now {
            return Attempt::GiveUp("its link expired before it could be delivered".into());
        }
        let link = match self.secrets.open_for(&link_context(m.id), &m.link_sealed) {
            Ok(l) => l,
            Err(e) => return Attempt::GiveUp(format!("its link does not open: {e}")),
        };
        let org_name = m.org_name.as_deref().unwrap_or("Orgbase");
        let rendered = self.templates.render(m.kind, org_name, &m.recipient, &link);
        match mailer.send(&m.recipient, &rendered).await {
            Ok(()) => Attempt::Sent,
            Err(e) => Attempt::Retry(e),
        }
    }

    /// The outbox row for `m`, its link sealed.
    pub(crate) fn outbox_row(&self, m: MailOut) -> Result<OutboxMail> {
        let now = self.clock.now();
        let id = MailId::new(now);
        Ok(OutboxMail {
            id,
            kind: m.kind,
            recipient: m.to,
            org_name: m.org_name,
            link_sealed: self.secrets.seal_for(&link_context(id), &m.link)?,
            status: MailStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            last_error: None,
            created_at: now,
            expires_at: m.expires_at,
            sent_at: None,
        })
    }

    /// The link of an outbox row, for operators (`orgbase mail outbox`).
    pub(crate) fn open_link(&self, m: &OutboxMail) -> Result<Option<String>> {
        if m.link_sealed.is_empty() {
            return Ok(None);
        }
        self.secrets
            .open_for(&link_context(m.id), &m.link_sealed)
            .map(Some)
            .map_err(|e| Error::Internal(format!("mail {}: {e}", m.id)))
    }
}

enum Attempt {
    Sent,
    Retry(String),
    GiveUp(String),
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_escape_html_and_keep_one_link() {
        let t = Templates::default();
        let to = Email::parse("a@example.com").unwrap();
        let r = t.render(
            MailKind::Invitation,
            "<b>Acme</b>\r\nBcc: x@evil.test",
            &to,
            "https://o.test/invitations/accept?token=obi_x",
        );
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
        assert!(r.html.contains("&lt;b&gt;Acme&lt;/b&gt;"));
        assert!(!r.html.contains("<b>Acme"));
        assert!(
            r.text
                .contains("https://o.test/invitations/accept?token=obi_x")
        );
        assert_eq!(r.text.matches("https://").count(), 1);
    }

    #[test]
    fn override_must_keep_the_link() {
        let dir = std::env::temp_dir().join(format!("orgbase-tpl-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(dir.join("invitation")).unwrap();
        std::fs::write(dir.join("invitation/body.txt"), "no link here").unwrap();
        assert!(Templates::load(Some(&dir)).is_err());
        std::fs::write(
            dir.join("invitation/body.txt"),
            "Join {{org_name}}: {{link}}",
        )
        .unwrap();
        let t = Templates::load(Some(&dir)).unwrap();
        let to = Email::parse("a@example.com").unwrap();
        let r = t.render(MailKind::Invitation, "Acme", &to, "L");
        assert_eq!(r.text, "Join Acme: L");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let s = MailSettings::default();
        assert_eq!(s.backoff_secs(1), 30);
        assert_eq!(s.backoff_secs(2), 60);
        assert_eq!(s.backoff_secs(3), 120);
        assert_eq!(s.backoff_secs(40), 3600);
    }
}
