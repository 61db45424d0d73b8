-- A mail kind for accounts made by a bulk import: a one-time link to set the password.
-- Keep in step with ../sqlite/0008_account_created_mail.sql.

ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('invitation', 'password_reset', 'email_verification', 'account_created'));
