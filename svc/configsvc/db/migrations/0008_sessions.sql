-- Console sessions: a browser exchanges a token for one (POST /api/v1/sessions).
--
-- Like a token's secret, only the SHA-256 of the session's secret (the cookie's value) is
-- stored. A session is bound to its token: revoking the token deletes its sessions with it.

CREATE TABLE sessions (
    id           text PRIMARY KEY CHECK (length(id) = 26),
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    token_id     text NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX sessions_token_id ON sessions (token_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
