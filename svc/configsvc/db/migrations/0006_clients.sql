-- Who is subscribed to what, across every worker: the fleet view (GET .../clients).
--
-- Each worker writes what changed for its sockets about once a second and stamps its own row in
-- `client_workers` at the same time; a worker whose stamp is old is dead, and its clients count
-- as disconnected from that moment. UNLOGGED: this is live state, rebuilt by the workers within
-- a second of a crash, not worth the WAL.

CREATE UNLOGGED TABLE client_workers (
    worker   text PRIMARY KEY,          -- host:pid
    seen_at  timestamptz NOT NULL
);

CREATE UNLOGGED TABLE client_subscriptions (
    worker              text NOT NULL,
    socket              bigint NOT NULL,    -- the socket's number within its worker
    application_id      text NOT NULL,
    client_id           text,
    labels              jsonb NOT NULL DEFAULT '{}',
    sdk                 text,
    remote_addr         text,
    connected_at        timestamptz NOT NULL,
    disconnected_at     timestamptz,
    delivered_revision  bigint NOT NULL DEFAULT 0,
    applied_revision    bigint,
    -- By configuration id: {"applied": version, "rejected": {"version", "reason", "at"}}.
    results             jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (worker, socket, application_id)
);

CREATE INDEX client_subscriptions_application_id ON client_subscriptions (application_id);
