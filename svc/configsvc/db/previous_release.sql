-- The SQL statements of the previous release, which keeps running on the newest schema during
-- a rolling deploy: db/previous_release_test.py prepares and runs each of them there.
-- Written by `python -m configsvc.devtools.releasesql` from a6819e4, commit a6819e4917f1;
-- refresh it when a release is cut (see db/migrations/README.md). Do not edit by hand.
-- last migration: 2

-- name: configsvc/db/migrations.py:71
SELECT to_regclass('migrations') IS NOT NULL;

-- name: configsvc/db/migrations.py:74
SELECT version, checksum FROM migrations;

-- name: configsvc/db/migrations.py:102
SELECT pg_advisory_lock($1);

-- name: configsvc/db/migrations.py:111
INSERT INTO migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4);

-- name: configsvc/db/migrations.py:121
SELECT pg_advisory_unlock($1);

-- name: configsvc/db/migrations.py:128
SELECT version, applied_at FROM migrations;

-- name: configsvc/live/listener.py:76
SELECT 1;

-- name: configsvc/store/applications.py:GET
SELECT a.*, ARRAY(
    SELECT c.id FROM configurations c WHERE c.application_id = a.id ORDER BY c.id
) AS configuration_ids
FROM applications a
WHERE a.id = $1;

-- name: configsvc/store/applications.py:GET_BY_NAME
SELECT * FROM applications WHERE name = $1;

-- name: configsvc/store/applications.py:LIST
SELECT * FROM applications
WHERE id > $1 AND ($2::text IS NULL OR name = $2)
ORDER BY id
LIMIT $3;

-- name: configsvc/store/applications.py:INSERT
INSERT INTO applications (id, name, comments, revision)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: configsvc/store/applications.py:REPLACE
UPDATE applications
SET name = $2, comments = $3, revision = $5, version = version + 1, updated_at = now()
WHERE id = $1 AND ($4::int IS NULL OR version = $4)
RETURNING *;

-- name: configsvc/store/applications.py:DELETE
DELETE FROM applications
WHERE id = $1 AND ($2::int IS NULL OR version = $2)
RETURNING *;

-- name: configsvc/store/applications.py:EXISTS
SELECT version FROM applications WHERE id = $1;

-- name: configsvc/store/changes.py:NEXT_REVISION
UPDATE revision_counter SET revision = revision + 1 RETURNING revision;

-- name: configsvc/store/changes.py:RECORD
WITH logged AS (
    INSERT INTO changes (revision, application_id, configuration_id, op, resource)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING revision
)
SELECT pg_notify($6, $7) FROM logged;

-- name: configsvc/store/changes.py:AFTER
SELECT revision, application_id, op, resource::text AS resource
FROM changes
WHERE revision > $1
ORDER BY revision
LIMIT $2;

-- name: configsvc/store/changes.py:AFTER_FOR_APPLICATION
SELECT revision, application_id, op, resource::text AS resource
FROM changes
WHERE application_id = $1 AND revision > $2 AND revision <= $3
ORDER BY revision
LIMIT $4;

-- name: configsvc/store/changes.py:COUNTER
SELECT revision, pruned_through FROM revision_counter;

-- name: configsvc/store/changes.py:PRUNE
WITH gone AS (
    DELETE FROM changes WHERE committed_at < now() - make_interval(secs => $1)
    RETURNING revision
)
UPDATE revision_counter
SET pruned_through = greatest(pruned_through, (SELECT max(revision) FROM gone))
WHERE EXISTS (SELECT FROM gone)
RETURNING pruned_through;

-- name: configsvc/store/configurations.py:GET
SELECT * FROM configurations WHERE id = $1;

-- name: configsvc/store/configurations.py:LIST
SELECT * FROM configurations
WHERE application_id = $1 AND id > $2
ORDER BY id
LIMIT $3;

-- name: configsvc/store/configurations.py:ALL_OF_APPLICATION
SELECT * FROM configurations WHERE application_id = $1 ORDER BY id;

-- name: configsvc/store/configurations.py:INSERT
INSERT INTO configurations (id, application_id, name, comments, config, revision)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: configsvc/store/configurations.py:REPLACE
UPDATE configurations
SET name = $2, comments = $3, config = $4, revision = $6, version = version + 1,
    updated_at = now()
WHERE id = $1 AND ($5::int IS NULL OR version = $5)
RETURNING *;

-- name: configsvc/store/configurations.py:DELETE
DELETE FROM configurations
WHERE id = $1 AND ($2::int IS NULL OR version = $2)
RETURNING *;

-- name: configsvc/store/configurations.py:APPLICATION_OF
SELECT application_id FROM configurations WHERE id = $1;

-- name: configsvc/store/configurations.py:APPLICATION_EXISTS
SELECT EXISTS (SELECT FROM applications WHERE id = $1);
