-- The mail outbox (ADR 0011): each mail is a row written in the same transaction as
-- the change that causes it; a worker claims due rows (status 'sending' with a lease),
-- sends them, and records the outcome in a write of its own.
-- Keep in step with ../sqlite/0003_mail.sql.

CREATE TABLE mail_outbox (
    id UUID NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
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
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
