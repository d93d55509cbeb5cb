-- History, audit and rollback (expand only: new tables, new nullable columns, wider checks).
--
-- Every version of every application and configuration is kept here, written by the write
-- path in the same transaction as the change. No foreign keys: history outlives what it is the
-- history of. Pruning keeps the newest version of each, whatever its age.

CREATE TABLE configuration_versions (
    configuration_id  text NOT NULL,
    version           integer NOT NULL,
    application_id    text NOT NULL,
    revision          bigint NOT NULL,
    op                text NOT NULL CHECK (op IN ('created', 'updated', 'deleted', 'restored')),
    name              text NOT NULL,
    comments          text NOT NULL,
    config            jsonb NOT NULL,
    actor_id          text,
    actor_name        text,
    reason            text,
    request_id        text,
    committed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (configuration_id, version)
);

-- "What was this application's state at revision R": per configuration, the newest row <= R.
CREATE INDEX configuration_versions_application_revision
    ON configuration_versions (application_id, revision);

CREATE TABLE application_versions (
    application_id  text NOT NULL,
    version         integer NOT NULL,
    revision        bigint NOT NULL,
    op              text NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
    name            text NOT NULL,
    comments        text NOT NULL,
    actor_id        text,
    actor_name      text,
    reason          text,
    request_id      text,
    committed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, version)
);

-- The lowest revision whose state history can still rebuild: raised by pruning. Rows written
-- before this migration have no history, so it starts at the current revision.
ALTER TABLE revision_counter ADD COLUMN history_from bigint NOT NULL DEFAULT 0;
UPDATE revision_counter SET history_from = revision;

INSERT INTO application_versions (application_id, version, revision, op, name, comments)
SELECT id, version, revision, CASE WHEN version = 1 THEN 'created' ELSE 'updated' END,
       name, comments
FROM applications;

INSERT INTO configuration_versions
    (configuration_id, version, application_id, revision, op, name, comments, config)
SELECT id, version, application_id, revision,
       CASE WHEN version = 1 THEN 'created' ELSE 'updated' END, name, comments, config
FROM configurations;

-- Append-only: the service only ever INSERTs here (and the pruner deletes by age).
CREATE TABLE audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        text,
    actor_name      text,
    remote_addr     text,
    user_agent      text,
    request_id      text,
    action          text NOT NULL,
    target_kind     text NOT NULL,
    target_id       text,
    application_id  text,
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'denied', 'invalid')),
    revision        bigint,
    reason          text,       -- the writer's X-Change-Reason
    detail          text        -- why a refused request was refused
);

CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_application_id ON audit (application_id, id);

-- Why and at whose request a change was made, for the feed's `change` frame.
ALTER TABLE changes ADD COLUMN reason text;
ALTER TABLE changes ADD COLUMN request_id text;

-- New ops: a restored configuration, and a whole application rolled back in one revision.
ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check CHECK (op IN (
    'created', 'updated', 'deleted', 'restored', 'rolled_back', 'application_created',
    'application_updated', 'application_deleted'));
