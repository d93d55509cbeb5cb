-- Access tokens, and who made each change.
--
-- Only the SHA-256 of a token's secret is stored: the secret is 256 random bits, so a fast hash
-- is as good as a slow one, and the lookup by hash is one index probe.

CREATE TABLE tokens (
    id            text PRIMARY KEY CHECK (length(id) = 26),
    name          varchar(256) NOT NULL CHECK (btrim(name) <> ''),
    secret_hash   bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    admin         boolean NOT NULL DEFAULT false,
    -- [{"application_id": ID or "*", "access": "read" | "write"}, ...]
    grants        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(grants) = 'array'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz
);

-- The actor of a change: the token's id and name as they were then (the token may be gone).
ALTER TABLE changes ADD COLUMN actor_id text;
ALTER TABLE changes ADD COLUMN actor_name text;
