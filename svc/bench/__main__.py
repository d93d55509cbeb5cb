"""``python -m bench [--quick]``: seed, measure, print the table, write the results.

The database is the one ``make run`` uses (DATABASE_URL, else the project-local cluster);
the bench works in its own database on that server, ``configsvc_bench``, made afresh each run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import cpus, dataset, live, load, machine, readcache, report, rest, scale, subscribers
from bench.plan import FULL, QUICK
from configsvc import settings as settings_mod
from configsvc.db import migrations
from configsvc.devtools import pgcluster

RESULTS = Path(__file__).parent / "results"
PHASES = ("rest", "live", "scale", "cache")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a rough run in under 2 minutes")
    parser.add_argument("--only", choices=PHASES, help="run one phase (results not written)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started, clock = datetime.now(UTC), time.monotonic()
    # Servers and subscriber processes inherit this; 10,000 sockets need it.
    subscribers.raise_nofile()
    pinning = cpus.plan()
    try:
        server_url = pgcluster.ensure_database_url(settings_mod.load())
    except pgcluster.ClusterError as exc:
        sys.exit(str(exc))
    cpus.pin(pinning.load)  # the bench's own bookkeeping stays off the server CPUs
    say(f"bench database {dataset.DB_NAME} on {migrations.with_database(server_url, '')}")
    url = asyncio.run(dataset.recreate(server_url))
    data = asyncio.run(dataset.seed(url, plan.applications, plan.configurations_per_application))
    say(f"seeded {len(data.applications)} applications, {len(data.configurations)} configurations")
    figures: dict[str, object] = {}
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        data_dir = Path(tmp)
        data.write(data_dir)
        if args.only in (None, "rest"):
            figures.update(rest.run(plan, url, data_dir, pinning, say))
        if args.only in (None, "live"):
            live_figures, live_notes = live.run(plan, url, server_url, data, data_dir, pinning, say)
            figures.update(live_figures)
            notes.update(live_notes)
        if args.only in (None, "scale"):
            scale_figures, scale_notes = scale.run(plan, url, data, pinning, say)
            figures.update(scale_figures)
            notes.update(scale_notes)
        if args.only in (None, "cache"):
            figures.update(readcache.run(plan, url, data, pinning, say))
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - clock, 1),
        "quick": plan.quick,
        "load_generator": load.generator(),
        "connections": load.CONNECTIONS,
        "pinning": pinning.as_json(),
        "machine": machine.describe(),
        "plan": plan.as_json(),
    }
    results = report.Results(figures, notes, meta)  # type: ignore[arg-type]
    print(report.table(results))
    if args.only is None:
        for path in report.write(results, RESULTS, started, plan.quick):
            say(f"wrote {path}")
    say(f"done in {meta['elapsed_s']} s")


if __name__ == "__main__":
    main()
