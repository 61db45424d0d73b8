-- Whether an invitation's link was shown to the inviting admin (no mail configured):
-- then using it proves nothing about the address. Existing invitations were shown.
ALTER TABLE invitations ADD COLUMN link_shown BOOLEAN NOT NULL DEFAULT TRUE;
