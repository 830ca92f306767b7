-- Second factors and settings flows, SQLite flavour.

-- Server-side state of a flow that clients never see (a pending TOTP secret, pending backup codes),
-- as JSON text.
ALTER TABLE selfservice_flows ADD COLUMN context TEXT NULL;

-- One row per one-time code use (a TOTP code in its time step, a backup code), so that a replay is
-- refused. The primary key makes a claim atomic; old claims are pruned per identity as new ones come.
CREATE TABLE credential_uses (
    identity_id BLOB NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    use_key TEXT NOT NULL,
    used_at TEXT NOT NULL,
    PRIMARY KEY (identity_id, use_key)
);
