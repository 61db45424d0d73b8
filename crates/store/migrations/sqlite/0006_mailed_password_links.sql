-- Whether a one-time set-password link was mailed to the user's address (a password
-- reset), so that using it also proves the address; links handed to an admin do not.
ALTER TABLE password_tokens ADD COLUMN mailed BOOLEAN NOT NULL DEFAULT FALSE;
