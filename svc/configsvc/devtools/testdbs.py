"""The test session's databases: copies of one migrated template, recycled between tests.

``CREATE DATABASE ... TEMPLATE`` costs the server about a third of a CPU second (and the
matching ``DROP`` a checkpoint): more than most tests take. So a database a test is done with
is reset instead -- its other sessions ended, every table emptied, the template's rows and
sequence positions put back -- and handed to the next test, but only when it is then
indistinguishable from the template: same schema, database settings, rows and sequences.
Anything else (a test that changed the schema, a grant, a setting, or a reset that failed) is
dropped, and the next test gets a new copy as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from configsvc.db import migrations

USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'"

USER_TABLES = f"""
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS}
ORDER BY 1
"""

SEQUENCES = """
SELECT format('%I.%I', schemaname, sequencename) AS name, last_value
FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1
"""

# Everything a test could change besides rows and sequence positions, as one text: tables,
# columns, defaults, constraints, indexes, functions, triggers, views, types, policies,
# extensions, grants and owners, comments, and the database's own settings.
SHAPE = f"""
WITH rel AS (
    SELECT c.* FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMAS}
)
SELECT concat_ws(E'\\n',
  (SELECT string_agg(format('%s %s %s %s %s %s %s %s', oid::regclass, relkind, relpersistence,
          relowner::regrole, relacl, reloptions, relrowsecurity, relreplident), ','
          ORDER BY oid::regclass::text) FROM rel),
  (SELECT string_agg(format('%s.%s %s %s %s %s %s', a.attrelid::regclass, a.attname,
          format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated,
          pg_get_expr(d.adbin, d.adrelid)), ',' ORDER BY a.attrelid::regclass::text, a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
     WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid IN (SELECT oid FROM rel)),
  (SELECT string_agg(format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)),
          ',' ORDER BY conrelid::regclass::text, conname)
     FROM pg_constraint WHERE connamespace IN (SELECT relnamespace FROM rel)),
  (SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes
     WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT string_agg(format('%s %s %s %s', p.oid::regprocedure, md5(p.prosrc), p.proconfig,
          p.proacl), ',' ORDER BY p.oid::regprocedure::text)
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_SCHEMAS}),
  (SELECT string_agg(format('%s %s %s %s', tgrelid::regclass, tgname, tgfoid::regproc,
          tgenabled), ',' ORDER BY tgrelid::regclass::text, tgname) FROM pg_trigger),
  (SELECT string_agg(format('%s.%s %s', schemaname, viewname, md5(definition)), ','
          ORDER BY schemaname, viewname) FROM pg_views
     WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT string_agg(format('%s.%s %s %s', schemaname, tablename, rulename, definition), ','
          ORDER BY schemaname, tablename, rulename) FROM pg_rules
     WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT string_agg(format('%s %s %s', t.oid::regtype, t.typtype,
          (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum
           WHERE enumtypid = t.oid)), ',' ORDER BY t.oid::regtype::text)
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_SCHEMAS}),
  (SELECT string_agg(format('%s %s %s %s', nspname, nspowner::regrole, nspacl, oid), ','
          ORDER BY nspname) FROM pg_namespace n WHERE {USER_SCHEMAS}),
  (SELECT string_agg(format('%s.%s %s %s %s %s', schemaname, tablename, policyname, roles, qual,
          with_check), ',' ORDER BY schemaname, tablename, policyname) FROM pg_policies),
  (SELECT string_agg(format('%s %s', extname, extversion), ',' ORDER BY extname)
     FROM pg_extension),
  (SELECT string_agg(format('%s %s %s', objoid, objsubid, description), ','
          ORDER BY objoid, objsubid, description) FROM pg_description
     WHERE objoid IN (SELECT oid FROM rel)),
  (SELECT string_agg(format('%s %s', evtname, evtenabled), ',' ORDER BY evtname)
     FROM pg_event_trigger),
  (SELECT string_agg(format('%s %s', defaclrole, defaclacl), ',' ORDER BY defaclrole::text)
     FROM pg_default_acl),
  (SELECT format('lo %s', count(*)) FROM pg_largeobject_metadata),
  (SELECT format('prepared %s', count(*)) FROM pg_prepared_xacts
     WHERE database = current_database()),
  (SELECT format('publications %s', count(*)) FROM pg_publication),
  (SELECT format('%s %s %s %s', datallowconn, datconnlimit, datacl, datistemplate)
     FROM pg_database WHERE datname = current_database()),
  (SELECT string_agg(setconfig::text, ',' ORDER BY setconfig::text) FROM pg_db_role_setting
     WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
)
"""

# The sessions a test left behind (a pool, a killed worker's backends), ended before the reset.
END_SESSIONS = """
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid()
"""

RESTORE_ROWS = "INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"  # noqa: E501
TABLE_ROWS = "SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text FROM {table} t"
RESTART_SEQUENCE = "SELECT setval($1::regclass, coalesce($2, seqstart), $2 IS NOT NULL) FROM pg_sequence WHERE seqrelid = $1::regclass"  # noqa: E501


@dataclass
class State:
    """What makes a database the template's twin: its shape, its rows, its sequences."""

    shape: str
    rows: dict[str, str]
    sequences: list[tuple[str, int | None]]


async def state(conn: asyncpg.Connection) -> State:
    """The database's state as the session compares it with the template's."""
    tables = [row["name"] for row in await conn.fetch(USER_TABLES)]
    rows = {table: await conn.fetchval(TABLE_ROWS.format(table=table)) for table in tables}
    sequences = [(row["name"], row["last_value"]) for row in await conn.fetch(SEQUENCES)]
    return State(await conn.fetchval(SHAPE), rows, sequences)


@dataclass
class Databases:
    """Databases for the tests, each equal to the template when a test gets it."""

    admin_url: str
    template: str
    template_state: State
    spare: list[str] = field(default_factory=list)
    created: int = 0
    recycled: int = 0

    @classmethod
    async def of_template(cls, admin_url: str, template: str) -> Databases:
        conn = await asyncpg.connect(migrations.with_database(admin_url, template))
        try:
            return cls(admin_url, template, await state(conn))
        finally:
            await conn.close()

    async def take(self, new_name: Callable[[], str]) -> str:
        """A database equal to the template: a recycled one, else a new copy."""
        if self.spare:
            self.recycled += 1
            return self.spare.pop()
        name = new_name()
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        self.created += 1
        return name

    async def give_back(self, name: str) -> None:
        """Keep ``name`` for the next test if a reset makes it the template's twin; else drop it."""
        if await self._reset(name):
            self.spare.append(name)
        else:
            await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def _admin(self, sql: str) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    async def _reset(self, name: str) -> bool:
        try:
            conn = await asyncpg.connect(migrations.with_database(self.admin_url, name))
        except (OSError, asyncpg.PostgresError):
            return False  # e.g. it no longer allows connections: a new copy is simpler
        try:
            await conn.execute(END_SESSIONS, name)
            await self._restore(conn)
            return await state(conn) == self.template_state
        except asyncpg.PostgresError:
            return False
        finally:
            await conn.close()

    async def _restore(self, conn: asyncpg.Connection) -> None:
        tables = [row["name"] for row in await conn.fetch(USER_TABLES)]
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '5s'")
            await conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            for table, rows in self.template_state.rows.items():
                if rows != "[]" and table in tables:
                    await conn.execute(RESTORE_ROWS.format(table=table), rows)
            for sequence, last_value in self.template_state.sequences:
                await conn.execute(RESTART_SEQUENCE, sequence, last_value)
