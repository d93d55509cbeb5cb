"""The bench database: dropped, migrated and seeded afresh on every run.

It lives beside the dev database on the same server (``configsvc_bench``) so bench data never
pollutes what ``make run`` serves. Seeding goes straight to the tables with COPY: 10,000
configurations through the API would take longer than the benchmark. The change log is not
seeded; every seeded row is at revision 1, the counter's starting point.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import ulid

from bench import scenarios
from configsvc.db import migrations

DB_NAME = "configsvc_bench"


@dataclass(frozen=True)
class Config:
    id: str
    name: str
    application_id: str


@dataclass(frozen=True)
class Dataset:
    """The seeded ids, as the load generators pick them at random."""

    applications: list[str]
    configurations: list[Config]
    # Applications with the bench's JSON Schema (scenarios.SCHEMA) as their `*` schema.
    with_schema: frozenset[str] = frozenset()

    def write(self, directory: Path) -> None:
        """The ids, and in ``schema/`` and ``plain/`` those of each half."""
        self._write(directory, self.applications, self.configurations)
        for half, wanted in (("schema", True), ("plain", False)):
            apps = [a for a in self.applications if (a in self.with_schema) == wanted]
            chosen = set(apps)
            configs = [c for c in self.configurations if c.application_id in chosen]
            self._write(directory / half, apps, configs)

    @staticmethod
    def _write(directory: Path, apps: list[str], configs: list[Config]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "apps.txt").write_text("".join(f"{a}\n" for a in apps))
        (directory / "configs.tsv").write_text(
            "".join(f"{c.id}\t{c.name}\t{c.application_id}\n" for c in configs)
        )

    @classmethod
    def read(cls, directory: Path) -> Dataset:
        apps = (directory / "apps.txt").read_text().split()
        configs = [
            Config(*line.split("\t"))
            for line in (directory / "configs.tsv").read_text().splitlines()
        ]
        return cls(apps, configs)


def generate(applications: int, per_application: int) -> tuple[list[tuple[object, ...]], ...]:
    """Rows for ``applications`` and ``configurations``, in their column order below."""
    now = datetime.now(UTC)
    app_rows: list[tuple[object, ...]] = []
    config_rows: list[tuple[object, ...]] = []
    for a in range(applications):
        app_id = str(ulid.ULID())
        app_rows.append((app_id, f"app-{a:05d}", "seeded by make bench", 1, 1, now, now))
        for c in range(per_application):
            config = json.dumps(scenarios.config_body(random.randrange(1 << 30)))  # noqa: S311
            config_rows.append(
                (str(ulid.ULID()), app_id, f"config-{c:02d}", "", config, 1, 1, now, now)
            )
    return app_rows, config_rows


APP_COLUMNS = ["id", "name", "comments", "version", "revision", "created_at", "updated_at"]
CONFIG_COLUMNS = [
    "id", "application_id", "name", "comments", "config", "version", "revision",
    "created_at", "updated_at",
]  # fmt: skip


async def recreate(admin_url: str) -> str:
    """Drop and create the bench database, migrate it, and return its URL."""
    return await migrations.recreate_database(admin_url, DB_NAME)


SCHEMA_COLUMNS = ["id", "application_id", "name", "schema", "revision"]


def schema_rows(app_ids: list[str]) -> list[tuple[object, ...]]:
    """The bench schema as `*` of each application (every other one: half of them)."""
    text = json.dumps(scenarios.SCHEMA)
    return [(str(ulid.ULID()), app_id, "*", text, 1) for app_id in app_ids[::2]]


async def seed(url: str, applications: int = 1000, per_application: int = 10) -> Dataset:
    app_rows, config_rows = generate(applications, per_application)
    schemas = schema_rows([str(r[0]) for r in app_rows])
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table("applications", records=app_rows, columns=APP_COLUMNS)
        await conn.copy_records_to_table(
            "configurations", records=config_rows, columns=CONFIG_COLUMNS
        )
        await conn.copy_records_to_table("schemas", records=schemas, columns=SCHEMA_COLUMNS)
        # The seeded configurations pass it, as a write through the API would have recorded.
        await conn.execute(
            "UPDATE configurations SET schema_status = 'valid'"
            " WHERE application_id IN (SELECT application_id FROM schemas)"
        )
        await conn.execute("UPDATE revision_counter SET revision = 1")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return Dataset(
        [str(r[0]) for r in app_rows],
        [Config(str(r[0]), str(r[2]), str(r[1])) for r in config_rows],
        frozenset(str(r[1]) for r in schemas),
    )


async def current_revision(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT revision FROM revision_counter"))
    finally:
        await conn.close()
