-- Progressive delivery: a candidate configuration reaches a deterministic share of the fleet
-- first (service/rollouts.py). The rollout's state lives here, so whichever worker is alive
-- advances it when `due_at` passes (SELECT ... FOR UPDATE SKIP LOCKED), after any restart.
-- No foreign keys: a rollout outlives its configuration in the history, as versions do.
CREATE TABLE rollouts (
    id                text PRIMARY KEY CHECK (length(id) = 26),
    configuration_id  text NOT NULL,
    application_id    text NOT NULL,
    state             text NOT NULL CHECK (state IN ('running', 'promoted', 'aborted', 'cancelled')),
    step              integer NOT NULL DEFAULT 0,
    base_version      integer NOT NULL,
    candidate         jsonb NOT NULL CHECK (jsonb_typeof(candidate) = 'object'),
    comments          text,
    steps             jsonb NOT NULL,
    abort_on          jsonb NOT NULL,
    labels            jsonb NOT NULL DEFAULT '{}',
    reason            text NOT NULL DEFAULT '',
    ended_reason      text,
    due_at            timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One running rollout per configuration, whatever the race.
CREATE UNIQUE INDEX rollouts_one_running ON rollouts (configuration_id) WHERE state = 'running';
CREATE INDEX rollouts_by_configuration ON rollouts (configuration_id, id DESC);
CREATE INDEX rollouts_due ON rollouts (due_at) WHERE state = 'running';

-- Who rejected a rollout's candidate: one row per client (its client_id, or its socket when it
-- sent none), so a client repeating its rejection counts once.
CREATE TABLE rollout_rejections (
    rollout_id  text NOT NULL,
    client_key  text NOT NULL,
    client_id   text,
    reason      text,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rollout_id, client_key)
);

-- A rollout's state changes are change-log entries (op `rollout`): the feed turns each into
-- the frames its targeted subscribers need. NOT VALID: the old rows need no second look.
ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check CHECK (op IN (
    'created', 'updated', 'deleted', 'restored', 'rolled_back', 'application_created',
    'application_updated', 'application_deleted', 'schema_created', 'schema_updated',
    'schema_deleted', 'rollout')) NOT VALID;
