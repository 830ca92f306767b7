-- Sesame schema, PostgreSQL flavour. Ids are UUIDs, times are timestamptz (microseconds), JSON is text
-- (kept byte-for-byte as clients sent it). Tokens are stored only as SHA-256 digests.

CREATE TABLE identities (
    id UUID PRIMARY KEY NOT NULL,
    schema_id TEXT NOT NULL,
    traits TEXT NOT NULL,
    state TEXT NOT NULL,
    state_changed_at TIMESTAMPTZ NULL,
    metadata_public TEXT NULL,
    metadata_admin TEXT NULL,
    external_id TEXT NULL UNIQUE,
    organization_id UUID NULL,
    verifiable_addresses TEXT NOT NULL,
    recovery_addresses TEXT NOT NULL,
    available_aal TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One row per address, so that two identities cannot share one.
CREATE TABLE identity_addresses (
    kind TEXT NOT NULL,
    via TEXT NOT NULL,
    value TEXT NOT NULL,
    identity_id UUID NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, via, value)
);
CREATE INDEX identity_addresses_identity ON identity_addresses(identity_id);

CREATE TABLE identity_credentials (
    id UUID PRIMARY KEY NOT NULL,
    identity_id UUID NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    identifiers TEXT NOT NULL,
    config TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (identity_id, type)
);

CREATE TABLE identity_credential_identifiers (
    type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    credential_id UUID NOT NULL REFERENCES identity_credentials(id) ON DELETE CASCADE,
    identity_id UUID NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    PRIMARY KEY (type, identifier)
);
CREATE INDEX identity_credential_identifiers_credential ON identity_credential_identifiers(credential_id);

CREATE TABLE sessions (
    id UUID PRIMARY KEY NOT NULL,
    identity_id UUID NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    token_digest BYTEA NOT NULL UNIQUE,
    logout_token_digest BYTEA NOT NULL UNIQUE,
    active BOOLEAN NOT NULL,
    aal TEXT NOT NULL,
    authentication_methods TEXT NOT NULL,
    devices TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    authenticated_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_identity ON sessions(identity_id, created_at DESC);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE selfservice_flows (
    id UUID PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    csrf_token TEXT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX selfservice_flows_expires ON selfservice_flows(expires_at);
