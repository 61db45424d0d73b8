-- A mail kind for accounts made by a bulk import: a one-time link to set the password.
-- Keep in step with ../postgres/0008_account_created_mail.sql.

CREATE TABLE mail_outbox_new (
    id BLOB NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'email_verification', 'account_created')),
    recipient TEXT NOT NULL CHECK (recipient = lower(recipient)),
    org_name TEXT,
    link_sealed TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sent_at BIGINT
) WITHOUT ROWID;
INSERT INTO mail_outbox_new SELECT id, kind, recipient, org_name, link_sealed, status, attempts,
    next_attempt_at, lease_until, last_error, created_at, expires_at, sent_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_new RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
