"""Settings come from the environment; a bad one stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pydantic
import pytest

from configsvc import settings as settings_mod


def test_defaults(monkeypatch) -> None:
    for name in ("HOST", "PORT", "WORKERS", "LOG_LEVEL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    s = settings_mod.Settings(_env_file=None)
    assert (s.host, s.port, s.workers, s.log_level, s.database_url) == (
        "127.0.0.1", 8080, 1, "INFO", None)  # fmt: skip


def test_environment_wins_and_log_level_is_case_insensitive(monkeypatch) -> None:
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = settings_mod.Settings(_env_file=None)
    assert (s.port, s.log_level) == (9000, "DEBUG")


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "eighty"), ("PORT", "70000"), ("WORKERS", "0"), ("LOG_LEVEL", "LOUD"),
     ("DB_POOL_MIN", "50")],
)  # fmt: skip
def test_a_bad_value_stops_with_one_line_naming_the_variable(monkeypatch, name, value) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        settings_mod.load()
    message = str(exc.value.code)
    assert name in message
    assert "\n" not in message


def test_the_server_command_prints_that_line_and_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, capture_output=True,
        text=True, timeout=30, env={**os.environ, "PORT": "not-a-port"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("invalid setting PORT:")


def test_pool_bounds_that_contradict_each_other_name_both_variables(monkeypatch) -> None:
    monkeypatch.setenv("DB_POOL_MIN", "20")
    monkeypatch.setenv("DB_POOL_MAX", "5")
    with pytest.raises(SystemExit) as exc:
        settings_mod.load()
    assert str(exc.value.code) == (
        "invalid settings: DB_POOL_MIN (20) must not exceed DB_POOL_MAX (5)"
    )


def test_auth_off_is_refused_at_start_unless_host_is_loopback() -> None:
    env = {**os.environ, "AUTH_MODE": "off", "HOST": "0.0.0.0"}
    result = subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, capture_output=True,
        text=True, timeout=30, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("invalid setting AUTH_MODE:")
    assert "loopback" in line
    assert "\n" not in line
    for host in ("127.0.0.1", "::1", "localhost"):
        assert settings_mod.Settings(_env_file=None, host=host, auth_mode="off").auth_mode == "off"


def test_a_bad_bootstrap_token_is_named_but_never_echoed(monkeypatch) -> None:
    monkeypatch.setenv("BOOTSTRAP_ADMIN_TOKEN", "hunter2-not-a-token")
    with pytest.raises(SystemExit) as exc:
        settings_mod.load()
    message = str(exc.value.code)
    assert "BOOTSTRAP_ADMIN_TOKEN" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@h/db", "must start with postgresql://"),
        ("postgresql://u:hunter2@h1:5432,h2:99999/db", "port must be a number"),
        ("postgresql://u@h1:5432,:5433/db", "host name is missing"),
        ("postgresql://u@h1,h2/db?target_session_attrs=writable", "use one of any, primary"),
    ],
)
def test_a_bad_database_url_is_explained_without_its_password(url: str, says: str) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        settings_mod.Settings(database_url=url, _env_file=None)
    told = settings_mod.describe_error(refused.value)
    assert told.startswith("invalid setting DATABASE_URL: ")
    assert says in told
    assert "hunter2" not in told


def test_a_cluster_url_of_several_hosts_is_taken() -> None:
    url = "postgresql://u@db1:5432,db2:5432,[::1]:5433/db?target_session_attrs=read-write"
    assert settings_mod.Settings(database_url=url, _env_file=None).database_url == url
    assert settings_mod.without_password("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
