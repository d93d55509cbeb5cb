-- Applications and their named configurations.
-- Ids are ULIDs made by the service (26 characters, Crockford base32): sortable by creation time.

CREATE TABLE applications (
    id          text PRIMARY KEY CHECK (length(id) = 26),
    name        varchar(256) NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    comments    varchar(1024) NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE configurations (
    id              text PRIMARY KEY CHECK (length(id) = 26),
    application_id  text NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name            varchar(256) NOT NULL CHECK (btrim(name) <> ''),
    comments        varchar(1024) NOT NULL DEFAULT '',
    config          jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'),
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Also the index behind "configurations of an application, in id order".
    UNIQUE (application_id, name)
);

CREATE INDEX configurations_application_id_id ON configurations (application_id, id);
