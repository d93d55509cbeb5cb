"""The figures: their order and units, the targets they are held to, the table and the JSON.

Targets are printed beside the figures as met / not met. They are never asserted in a test:
a benchmark on a shared machine is evidence, not a gate.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import stats

REST = (
    "rest_get_config", "rest_get_app", "rest_list", "rest_put_config",
    "rest_put_config_noschema", "rest_post_config",
)  # fmt: skip
LOAD_SUFFIXES = ("rps", "p50_ms", "p99_ms", "errors")
WORKERS2 = "_workers2"
SCALE_SUFFIXES = ("subscribers", "connect_s", "last_p50_ms", "last_p99_ms", "dropped", "rss_mib")


def _keys() -> list[str]:
    keys = [f"{name}_{s}" for name in REST for s in LOAD_SUFFIXES]
    keys += [f"{name}_{s}{WORKERS2}" for name in REST for s in LOAD_SUFFIXES]
    keys += [f"ceiling_{n}_{s}" for n in ("hello", "fetchrow", "update") for s in LOAD_SUFFIXES]
    keys += [f"rest_get_config_open_{s}" for s in LOAD_SUFFIXES]
    keys += ["ratio_get_config_to_fetchrow", "ratio_get_config_to_hello", "ratio_auth_to_open"]
    keys += ["ratio_put_schema_to_noschema", "ratio_get_app_to_hello"]
    keys += ["ratio_put_to_update", "ratio_post_to_update"]
    keys += ["write_batch_writes_mean", "write_batch_wait_mean_ms"]
    keys += ["notify_floor_p50_ms", "notify_floor_p99_ms", "live_1sub_p50_ms", "live_1sub_p99_ms"]
    keys += ["notify_floor_durable_p50_ms", "notify_floor_durable_p99_ms"]
    keys += ["cache_staleness_p50_ms", "cache_staleness_p99_ms"]
    keys += ["cache_bytes_per_entry", "cache_rss_bytes_per_entry", "cache_bytes_to_bound"]
    for n in (1000, 10000):
        keys += [f"live_fanout_{n}_last_p50_ms", f"live_fanout_{n}_last_p99_ms"]
        keys += [f"ceiling_ws_broadcast_{n}_last_p50_ms", f"ceiling_ws_broadcast_{n}_last_p99_ms"]
        keys += [f"ratio_fanout_{n}_to_ceiling"]
    keys += ["rss_kib_per_idle_subscriber", "catchup_10k_s", "writes_per_s_with_1000_subs"]
    for side in ("scale", "ceiling_scale"):
        keys += [f"{side}_{s}" for s in SCALE_SUFFIXES]
    keys += ["scale_rest_p99_ms", "scale_rest_errors", "ratio_scale_to_ceiling"]
    return keys


KEYS = _keys()


def unit(key: str) -> str:
    key = key.removesuffix(WORKERS2)
    if key.startswith("ratio_"):
        return "x"
    for suffix, name in (
        ("_rps", "req/s"), ("_ms", "ms"), ("_errors", "errors"), ("_connect_s", "s"),
        ("_subscribers", "sockets"), ("_dropped", "sockets"), ("_rss_mib", "MiB"),
    ):  # fmt: skip
        if key.endswith(suffix):
            return name
    if key.startswith("cache_bytes_to"):
        return "x"
    if key.startswith("cache_") and key.endswith("_entry"):
        return "bytes"
    return {"rss_kib_per_idle_subscriber": "KiB", "catchup_10k_s": "s",
            "write_batch_writes_mean": "writes/commit"}.get(key, "writes/s")  # fmt: skip


@dataclass(frozen=True)
class Target:
    figure: str
    compare: Callable[[float, float], bool]
    symbol: str
    limit: float
    plus: str | None = None  # the limit is relative to this other figure

    def bound(self, medians: dict[str, float | None]) -> float | None:
        if self.plus is None:
            return self.limit
        base = medians.get(self.plus)
        return None if base is None else base + self.limit

    def met(self, medians: dict[str, float | None]) -> bool | None:
        value, bound = medians.get(self.figure), self.bound(medians)
        return None if value is None or bound is None else self.compare(value, bound)

    def describe(self) -> str:
        rhs = f"{self.plus} + {self.limit:g}" if self.plus else f"{self.limit:g}"
        return f"{self.symbol} {rhs}"


GE, LE = operator.ge, operator.le
TARGETS = (
    Target("ratio_get_config_to_fetchrow", GE, ">=", 0.70),
    Target("ratio_get_config_to_hello", GE, ">=", 0.50),
    Target("ratio_get_app_to_hello", GE, ">=", 0.50),
    Target("ratio_auth_to_open", GE, ">=", 0.90),
    Target("ratio_put_schema_to_noschema", GE, ">=", 0.90),
    # Writes that share a commit against one bare UPDATE per commit, at 32 connections.
    Target("ratio_put_to_update", GE, ">=", 3.0),
    Target("ratio_post_to_update", GE, ">=", 3.0),
    # Against the durable floor: a PUT's commit flushes WAL, a bare NOTIFY's does not.
    Target("live_1sub_p99_ms", LE, "<=", 3.0, plus="notify_floor_durable_p99_ms"),
    Target("cache_staleness_p99_ms", LE, "<=", 2.0, plus="notify_floor_p99_ms"),
    Target("cache_bytes_to_bound", LE, "<=", 1.0),
    Target("ratio_fanout_1000_to_ceiling", LE, "<=", 1.25),
    Target("ratio_fanout_10000_to_ceiling", LE, "<=", 1.25),
    Target("live_fanout_1000_last_p99_ms", LE, "<=", 100.0),
    Target("rss_kib_per_idle_subscriber", LE, "<=", 12.0),
    Target("catchup_10k_s", LE, "<=", 2.0),
    # Issue 23's moonshot: 100,000 idle subscribers, WORKERS=2, one change at a time.
    Target("scale_subscribers", GE, ">=", 100000),
    Target("scale_last_p99_ms", LE, "<=", 1000.0),
    Target("scale_rest_p99_ms", LE, "<=", 50.0),
    Target("scale_dropped", LE, "<=", 0),
)


@dataclass
class Results:
    """Every figure's spread (None: not measured, and ``notes`` says why) and the run's facts."""

    figures: dict[str, stats.Spread | None]
    notes: dict[str, str]
    meta: dict[str, Any]

    def medians(self) -> dict[str, float | None]:
        return {k: (s.median if s else None) for k, s in self.figures.items()}

    def as_json(self) -> dict[str, Any]:
        medians = self.medians()
        out: dict[str, Any] = {"meta": self.meta}
        for key in KEYS:
            spread = self.figures.get(key)
            out[key] = {**spread.as_json(), "unit": unit(key)} if spread else None
        out["targets"] = [
            {
                "figure": t.figure,
                "target": t.describe(),
                "value": medians.get(t.figure),
                "bound": t.bound(medians),
                "met": t.met(medians),
            }
            for t in TARGETS
        ]
        out["not_available"] = {k: v for k, v in self.notes.items() if self.figures.get(k) is None}
        return out


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if value else "0"


def table(results: Results) -> str:
    medians = results.medians()
    by_figure = {t.figure: t for t in TARGETS}
    lines = [f"{'figure':<44} {'median':>10} {'min .. max':>21}  {'unit':<8} target"]
    for key in KEYS:
        spread = results.figures.get(key)
        if spread is None:
            cells = f"{'n/a':>10} {'':>21}"
        else:
            span = f"{_number(spread.min)} .. {_number(spread.max)}"
            cells = f"{_number(spread.median):>10} {span:>21}"
        target = by_figure.get(key)
        verdict = ""
        if target is not None:
            met = target.met(medians)
            word = "n/a" if met is None else "met" if met else "NOT MET"
            verdict = f"{target.describe()}: {word}"
        lines.append(f"{key:<44} {cells}  {unit(key):<8} {verdict}".rstrip())
    for key, why in results.notes.items():
        lines.append(f"  note {key}: {why}")
    return "\n".join(lines)


def write(results: Results, directory: Path, started: datetime, quick: bool) -> list[Path]:
    """The dated copy always; ``latest.json`` only for a full run (a quick one is too rough)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results.as_json(), indent=2) + "\n"
    dated = directory / f"{started:%Y%m%dT%H%M%SZ}{'-quick' if quick else ''}.json"
    paths = [dated] if quick else [dated, directory / "latest.json"]
    for path in paths:
        path.write_text(text)
    return paths
