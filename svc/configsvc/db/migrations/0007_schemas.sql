-- JSON Schemas per configuration name (or `*`: the application's default), their history, and
-- each configuration's standing against its schema (expand only: a new table, new columns with
-- defaults, a wider check).

CREATE TABLE schemas (
    id              text PRIMARY KEY CHECK (length(id) = 26),
    application_id  text NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- A configuration name, or '*' for every configuration without a schema of its own.
    name            varchar(256) NOT NULL CHECK (btrim(name) <> ''),
    schema          jsonb NOT NULL CHECK (jsonb_typeof(schema) = 'object'),
    version         integer NOT NULL DEFAULT 1,
    revision        bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, name)
);

-- Every version of every schema, like configuration_versions: no foreign key, it outlives them.
CREATE TABLE schema_versions (
    schema_id       text NOT NULL,
    version         integer NOT NULL,
    application_id  text NOT NULL,
    name            text NOT NULL,
    revision        bigint NOT NULL,
    op              text NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
    schema          jsonb NOT NULL,
    actor_id        text,
    actor_name      text,
    reason          text,
    request_id      text,
    committed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_id, version)
);

CREATE INDEX schema_versions_application_name ON schema_versions (application_id, name, version);

-- 'none': no schema covers it; 'valid'; 'invalid': a schema stored with ?force=true fails it,
-- and schema_errors says how. Kept by the write path; the configuration itself is never
-- rewritten. The previous release never writes these: its rows get 'none', which the next
-- schema change or write of that configuration corrects.
ALTER TABLE configurations ADD COLUMN schema_status text NOT NULL DEFAULT 'none'
    CHECK (schema_status IN ('none', 'valid', 'invalid'));
ALTER TABLE configurations ADD COLUMN schema_errors jsonb;

ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check CHECK (op IN (
    'created', 'updated', 'deleted', 'restored', 'rolled_back', 'application_created',
    'application_updated', 'application_deleted', 'schema_created', 'schema_updated',
    'schema_deleted')) NOT VALID;
