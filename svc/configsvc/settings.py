"""Service settings, read from the environment and from ``svc/.env``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import pydantic
from aiohttp import web
from pydantic_settings import BaseSettings, SettingsConfigDict

SVC_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of the service. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=SVC_DIR / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = pydantic.Field(
        default=None,
        description="PostgreSQL URL. Unset: a project-local cluster under svc/.pgdata is used.",
    )
    host: str = "127.0.0.1"
    port: int = pydantic.Field(default=8080, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    db_pool_min: int = pydantic.Field(default=2, ge=0)
    db_pool_max: int = pydantic.Field(default=10, ge=1)
    db_acquire_timeout_s: float = pydantic.Field(default=5.0, gt=0)
    workers: int = pydantic.Field(default=1, ge=1, le=64)
    max_body_bytes: int = pydantic.Field(default=1024 * 1024, ge=1024)
    change_retention_days: float = pydantic.Field(default=7.0, gt=0)
    prune_interval_s: float = pydantic.Field(default=300.0, gt=0)
    ws_heartbeat_s: float = pydantic.Field(default=20.0, gt=0)
    ws_send_buffer_bytes: int = pydantic.Field(default=4 * 1024 * 1024, ge=1024)
    ws_close_timeout_s: float = pydantic.Field(default=2.0, gt=0)
    listener_probe_s: float = pydantic.Field(default=5.0, gt=0)
    listener_max_failures: int = pydantic.Field(default=5, ge=1)
    listen_database_url: str | None = pydantic.Field(
        default=None,
        description="A direct PostgreSQL URL for each worker's LISTEN connection "
        "(not through PgBouncer). Unset: DATABASE_URL.",
    )
    db_pgbouncer: bool = pydantic.Field(
        default=False,
        description="DATABASE_URL goes through PgBouncer in transaction mode: no statement cache.",
    )
    metrics_public: bool = pydantic.Field(
        default=False, description="Serve GET /metrics to anyone, without a token."
    )
    log_format: Literal["text", "json"] = "text"
    clients_keep_s: float = pydantic.Field(
        default=300.0, gt=0, description="How long a disconnected client stays in the fleet view."
    )
    local_pg_port: int = pydantic.Field(default=54329, ge=1, le=65535)
    local_pg_dir: Path = SVC_DIR / ".pgdata"

    @pydantic.field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @pydantic.field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @pydantic.model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN must not exceed DB_POOL_MAX")
        return self


SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)


def describe_error(exc: pydantic.ValidationError) -> str:
    """One line per bad variable, naming it the way the operator spelled it."""
    lines = []
    for err in exc.errors():
        name = "_".join(str(part) for part in err["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


def load() -> Settings:
    """Read the settings, or exit with one line saying which variable is wrong."""
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        sys.exit(describe_error(exc))
