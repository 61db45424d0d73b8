-- Proof of e-mail; see ../sqlite/0005_email_verification.sql.

ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

CREATE TABLE email_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (email = lower(email)),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id);

ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('invitation', 'password_reset', 'email_verification'));
