//! The mail outbox: each mail Orgbase sends is first a row, written in the same
//! transaction as the change that causes it, then delivered by a worker (ADR 0011).

use std::str::FromStr;

use crate::error::InvalidInput;
use crate::{Email, MailId, Timestamp};

macro_rules! mail_enum {
    ($name:ident, $field:literal, { $($variant:ident = $s:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)*
                    _ => Err(InvalidInput::new(concat!("invalid_", $field), $field,
                        format!("unknown {} '{s}'", $field))),
                }
            }
        }
    };
}

mail_enum!(MailKind, "kind", {
    Invitation = "invitation",
    PasswordReset = "password_reset",
    EmailVerification = "email_verification",
    // A new account made by a bulk import: a one-time link to set its password.
    AccountCreated = "account_created",
});

mail_enum!(MailStatus, "status", {
    // Waiting for its next attempt (`next_attempt_at`).
    Queued = "queued",
    // Claimed by a worker until `lease_until`; after that, any worker may retry it.
    Sending = "sending",
    // The SMTP server accepted it; never sent again. Its link is erased.
    Sent = "sent",
    // Given up (its link expired, or too many attempts). Its link is erased.
    Failed = "failed",
});

/// One mail of the outbox. It carries the one link it exists for, sealed with the
/// master key (`link_sealed`), never the rendered text: templates are applied when it
/// is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: MailId,
    pub kind: MailKind,
    pub recipient: Email,
    /// The organization the mail speaks for (invitations), by name.
    pub org_name: Option<String>,
    /// The link, sealed; empty once the mail is sent or given up.
    pub link_sealed: String,
    pub status: MailStatus,
    /// Delivery attempts started so far.
    pub attempts: i32,
    pub next_attempt_at: Timestamp,
    pub lease_until: Option<Timestamp>,
    /// The last delivery error (no tokens: SMTP answers and connection errors).
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    /// When the link stops working: not delivered by then, the mail is given up.
    pub expires_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

impl OutboxMail {
    /// Whether a worker may claim it at `now`: queued and due, or claimed by a worker
    /// whose lease ran out (it died between claiming and recording the outcome).
    pub fn is_due(&self, now: Timestamp) -> bool {
        match self.status {
            MailStatus::Queued => self.next_attempt_at <= now,
            MailStatus::Sending => self.lease_until.is_none_or(|l| l <= now),
            MailStatus::Sent | MailStatus::Failed => false,
        }
    }
}
