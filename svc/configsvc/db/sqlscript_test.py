"""A no-transaction migration is cut into statements where PostgreSQL would end them."""

from __future__ import annotations

from configsvc.db import sqlscript


def test_semicolons_inside_strings_identifiers_bodies_and_comments_do_not_split() -> None:
    script = """
-- header; with a semicolon
CREATE INDEX CONCURRENTLY IF NOT EXISTS "odd;name" ON t (a);  /* trailing; comment */
INSERT INTO t (a) VALUES ('it''s; fine');
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
DO $$ BEGIN PERFORM 1; END $$
"""
    assert sqlscript.statements(script) == [
        '-- header; with a semicolon\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "odd;name" ON t (a)',
        "/* trailing; comment */\nINSERT INTO t (a) VALUES ('it''s; fine')",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$",
        "DO $$ BEGIN PERFORM 1; END $$",
    ]


def test_empty_and_comment_only_parts_are_dropped() -> None:
    assert sqlscript.statements("-- nothing\n;;  /* still nothing */ ;\n") == []


def test_without_comments_keeps_comment_look_alikes_inside_strings() -> None:
    sql = "-- lead\nSELECT '-- not a comment' /* gone */ FROM t"
    assert sqlscript.without_comments(sql) == "SELECT '-- not a comment'   FROM t"
