-- The change log behind the live feed.
--
-- Every write takes the next revision by updating the single row of `revision_counter` first.
-- The row lock it holds until commit makes writers commit in revision order: once a reader has
-- seen revision R committed, nothing below R can commit later. (A sequence does not give this:
-- two transactions can draw 5 and 6 and commit 6 first.) A rolled-back writer also rolls back
-- its increment, so revisions have no gaps.

CREATE TABLE revision_counter (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    revision        bigint NOT NULL DEFAULT 0,
    -- Highest revision removed by pruning: a subscriber asking for changes after an older one
    -- gets a fresh snapshot instead.
    pruned_through  bigint NOT NULL DEFAULT 0
);
INSERT INTO revision_counter DEFAULT VALUES;

CREATE TABLE changes (
    revision          bigint PRIMARY KEY,
    application_id    text NOT NULL,
    configuration_id  text,
    op                text NOT NULL CHECK (op IN (
        'created', 'updated', 'deleted', 'application_created', 'application_updated',
        'application_deleted')),
    -- The resource as the API showed it right after this change (for deletes, as it was).
    resource          jsonb NOT NULL,
    committed_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX changes_application_id_revision ON changes (application_id, revision);
CREATE INDEX changes_committed_at ON changes (committed_at);

ALTER TABLE applications ADD COLUMN revision bigint NOT NULL DEFAULT 0;
ALTER TABLE configurations ADD COLUMN revision bigint NOT NULL DEFAULT 0;
