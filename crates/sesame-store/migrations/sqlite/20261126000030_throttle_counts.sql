-- Throttled guessing, SQLite flavour: one row per failed-attempt count (an account's password, its
-- second factors, an identifier nobody owns, a client address), shared by every server of the
-- database. `key` is a SHA-256 digest of what is counted, never the identifier or address itself.
-- Times are milliseconds since 1970 (not RFC 3339 text as elsewhere), so that the one statement
-- that checks a wait and counts an attempt can compute waits in SQL the same way on both backends.
--   failures   consecutive failures (accounts), or failures in the bucket (addresses)
--   last_at    the last counted failure (accounts), or the bucket's drain time (addresses)
--   next_at    the earliest time the next attempt is admitted
--   locked_at  set when an account count reaches its lock; only clearing the row lifts it
--   forget_at  from then on the row counts nothing (unless locked): what `sesame cleanup` removes
CREATE TABLE throttle_counts (
    key BLOB PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL,
    identity_id BLOB NULL REFERENCES identities(id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    locked_at INTEGER NULL,
    forget_at INTEGER NOT NULL
);
CREATE INDEX throttle_counts_identity ON throttle_counts(identity_id) WHERE identity_id IS NOT NULL;
CREATE INDEX throttle_counts_forget ON throttle_counts(forget_at) WHERE locked_at IS NULL;
