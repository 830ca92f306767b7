-- What `sesame cleanup` looks for, found through indexes so that each of its small batches stays a
-- short statement however large the tables grow: sessions deactivated (logout, revocation) before a
-- cut-off, and one-time code claims made before one. Expired sessions and flows have theirs already.
CREATE INDEX sessions_inactive ON sessions(updated_at) WHERE active = FALSE;
CREATE INDEX credential_uses_used_at ON credential_uses(used_at);
