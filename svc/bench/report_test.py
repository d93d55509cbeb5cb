import json
from datetime import UTC, datetime
from pathlib import Path

from bench import report, stats


def _results(**medians: float) -> report.Results:
    figures: dict[str, stats.Spread | None] = {
        k: stats.Spread(v, v, v, 3) for k, v in medians.items()
    }
    return report.Results(figures, {"catchup_10k_s": "not available: no feed"}, {"quick": False})


def test_targets_are_met_or_not_met_or_unknown() -> None:
    results = _results(ratio_get_config_to_fetchrow=0.8, live_1sub_p99_ms=5.0,
                       notify_floor_p99_ms=0.5, notify_floor_durable_p99_ms=1.0,
                       cache_staleness_p99_ms=2.5, rss_kib_per_idle_subscriber=12.0)  # fmt: skip
    verdicts = {t["figure"]: t["met"] for t in results.as_json()["targets"]}
    assert verdicts["ratio_get_config_to_fetchrow"] is True
    assert verdicts["live_1sub_p99_ms"] is False  # 5 > 1 (the durable floor) + 3
    assert verdicts["cache_staleness_p99_ms"] is True  # 2.5 <= 0.5 (the bare floor) + 2
    assert verdicts["rss_kib_per_idle_subscriber"] is True  # the bound is inclusive
    assert verdicts["catchup_10k_s"] is None


def test_json_has_every_key_and_says_what_is_missing() -> None:
    out = _results(rest_get_config_rps=1234.5).as_json()
    assert set(report.KEYS) <= set(out)
    assert out["rest_get_config_rps"]["unit"] == "req/s"
    assert out["rest_get_config_rps"]["median"] == 1234.5
    assert out["catchup_10k_s"] is None
    assert out["not_available"] == {"catchup_10k_s": "not available: no feed"}


def test_table_prints_every_figure_with_its_verdict() -> None:
    text = report.table(_results(ratio_get_config_to_fetchrow=0.5))
    assert "ratio_get_config_to_fetchrow" in text
    assert ">= 0.7: NOT MET" in text
    assert len(text.splitlines()) == len(report.KEYS) + 2  # header and one note


def test_units_follow_the_key() -> None:
    assert report.unit("rest_put_config_p99_ms_workers2") == "ms"
    assert report.unit("ratio_fanout_1000_to_ceiling") == "x"
    assert report.unit("writes_per_s_with_1000_subs") == "writes/s"
    assert report.unit("catchup_10k_s") == "s"
    assert report.unit("cache_bytes_per_entry") == "bytes"
    assert report.unit("cache_bytes_to_bound") == "x"
    assert report.unit("cache_staleness_p99_ms") == "ms"


def test_quick_runs_leave_latest_alone(tmp_path: Path) -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    (quick,) = report.write(_results(), tmp_path, started, quick=True)
    assert quick.name == "20260102T030405Z-quick.json"
    assert not (tmp_path / "latest.json").exists()
    report.write(_results(), tmp_path, started, quick=False)
    assert json.loads((tmp_path / "latest.json").read_text())["meta"] == {"quick": False}
