from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from configsvc_contract import models

from configsvc_client import cache
from configsvc_client.live_test import APP, conf


def state(revision: int, **configs: dict[str, object]) -> cache.CacheState:
    return cache.CacheState(
        application_id=APP,
        application_name="billing",
        revision=revision,
        configurations=[
            models.Configuration.model_validate(conf(n, name, config))
            for n, (name, config) in enumerate(configs.items())
        ],
    )


def test_save_then_load_by_name_or_id(tmp_path: Path) -> None:
    path = tmp_path / "billing.json"
    cache.save(path, state(7, limits={"rate": 5}))
    for ref in ("billing", APP):
        loaded = cache.load(path, ref)
        assert loaded is not None
        assert loaded.revision == 7
        assert loaded.configurations[0].config == {"rate": 5}
    # Nothing but the file itself is left behind: the temporary file was renamed over it.
    assert os.listdir(tmp_path) == ["billing.json"]


def test_a_missing_unreadable_or_foreign_file_is_no_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.json"
    assert cache.load(path, "billing") is None
    path.write_text("{not json")
    assert cache.load(path, "billing") is None
    cache.save(path, state(1))
    assert cache.load(path, "shipping") is None
    assert "ignoring" in caplog.text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cache.save(path, state(1, a={"v": 1}))
    path_as_dir = tmp_path / "c.json.d"
    path_as_dir.mkdir()  # os.replace of a file onto a directory fails
    with pytest.raises(OSError):
        cache.save(path_as_dir, state(2))
    assert json.loads(path.read_text())["revision"] == 1
    assert sorted(os.listdir(tmp_path)) == ["c.json", "c.json.d"]


async def test_the_writer_coalesces_and_flushes_on_close(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    writer = cache.Writer(path)
    writer.start()
    for revision in range(1, 50):
        writer.submit(state(revision))
    await writer.close()
    loaded = cache.load(path, "billing")
    assert loaded is not None
    assert loaded.revision == 49


async def test_the_writer_survives_a_failing_disk(tmp_path: Path) -> None:
    writer = cache.Writer(tmp_path / "missing-dir" / "c.json")
    writer.start()
    writer.submit(state(1))
    async with asyncio.timeout(10):
        await writer.close()
    assert writer.failures == 1
