"""Service settings, read from the environment and from ``svc/.env``."""

from __future__ import annotations

import ipaddress
import sys
import urllib.parse
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
        description="PostgreSQL URL; required. `make run` sets it to a project-local cluster.",
    )
    host: str = "127.0.0.1"
    port: int = pydantic.Field(default=8080, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    db_pool_min: int = pydantic.Field(default=2, ge=0)
    db_pool_max: int = pydantic.Field(default=10, ge=1)
    db_acquire_timeout_s: float = pydantic.Field(default=5.0, gt=0)
    db_start_timeout_s: float = pydantic.Field(
        default=30.0, ge=0,
        description="How long start-up waits for a primary (during a failover, say) before "
        "giving up; 0: not at all.",
    )  # fmt: skip
    workers: int = pydantic.Field(default=1, ge=1, le=64)
    max_body_bytes: int = pydantic.Field(default=1024 * 1024, ge=1024)
    body_read_timeout_s: float = pydantic.Field(default=10.0, gt=0)
    # Every subscribed client process holds a socket: thousands per worker are normal.
    max_connections: int = pydantic.Field(default=10000, ge=1)
    keepalive_timeout_s: float = pydantic.Field(default=2.0, gt=0)
    page_max_bytes: int = pydantic.Field(default=4 * 1024 * 1024, ge=1024)
    allowed_hosts: str = pydantic.Field(
        default="",
        description="Comma-separated host names the Host header may carry; `*` for any. "
        "Empty: loopback names when HOST is a loopback address, else any.",
    )
    allowed_origins: str = pydantic.Field(
        default="",
        description="Comma-separated origins (scheme://host[:port]) allowed besides the "
        "request's own; `*` for any.",
    )
    change_retention_days: float = pydantic.Field(default=7.0, gt=0)
    history_retention_days: float = pydantic.Field(default=365.0, gt=0)
    history_keep_versions: int = pydantic.Field(default=100, ge=0)
    audit_retention_days: float = pydantic.Field(default=400.0, gt=0)
    prune_interval_s: float = pydantic.Field(default=300.0, gt=0)
    ws_heartbeat_s: float = pydantic.Field(default=20.0, gt=0)
    ws_send_buffer_bytes: int = pydantic.Field(default=4 * 1024 * 1024, ge=1024)
    ws_close_timeout_s: float = pydantic.Field(default=2.0, gt=0)
    listener_probe_s: float = pydantic.Field(default=5.0, gt=0)
    listener_max_failures: int = pydantic.Field(default=5, ge=1)
    auth_mode: Literal["enforce", "observe", "off"] = pydantic.Field(
        default="enforce",
        description="enforce: tokens required; observe: allow all, log what would be refused; "
        "off: no checks (only with a loopback HOST).",
    )
    bootstrap_admin_token: pydantic.SecretStr | None = pydantic.Field(
        default=None,
        description="cfs_... secret stored (hashed) as admin token 'bootstrap' if none exists.",
    )
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
    read_cache_max_mb: float = pydantic.Field(
        default=64.0,
        ge=0,
        description="Per worker: the bytes of encoded GET bodies kept in memory (LRU); 0: off.",
    )
    min_revision_wait_ms: float = pydantic.Field(
        default=100.0,
        ge=0,
        le=10000,
        description="How long a read with Config-Min-Revision waits for this worker's listener "
        "before it reads the database instead.",
    )
    session_ttl_s: float = pydantic.Field(
        default=8 * 3600.0,
        ge=60,
        le=30 * 86400,
        description="How long a console session lasts (it ends earlier with its token).",
    )
    trust_forwarded_proto: bool = pydantic.Field(
        default=False,
        description="Believe X-Forwarded-Proto: https (set by a TLS-terminating proxy) when "
        "deciding whether the session cookie is Secure.",
    )
    local_pg_port: int = pydantic.Field(default=54329, ge=1, le=65535)
    local_pg_dir: Path = SVC_DIR / ".pgdata"

    @pydantic.field_validator("database_url", "listen_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_postgres_url(value)
        return value

    @pydantic.field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @pydantic.field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @pydantic.field_validator("auth_mode")
    @classmethod
    def _off_only_on_loopback(cls, value: str, info: pydantic.ValidationInfo) -> str:
        if value == "off" and not _loopback(info.data.get("host", "")):
            raise ValueError("AUTH_MODE=off is allowed only when HOST is a loopback address")
        return value

    @pydantic.field_validator("bootstrap_admin_token")
    @classmethod
    def _token_shape(cls, value: pydantic.SecretStr | None) -> pydantic.SecretStr | None:
        secret = None if value is None else value.get_secret_value()
        if secret is not None and not (secret.startswith("cfs_") and len(secret) >= 47):
            raise ValueError("must be cfs_ followed by at least 43 URL-safe characters")
        return value

    @pydantic.model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError(
                f"DB_POOL_MIN ({self.db_pool_min}) must not exceed DB_POOL_MAX ({self.db_pool_max})"
            )
        return self

    @pydantic.model_validator(mode="after")
    def _listener_not_pooled(self) -> Settings:
        if self.db_pgbouncer and not self.listen_database_url:
            raise ValueError(
                "DB_PGBOUNCER=true needs LISTEN_DATABASE_URL: a direct connection to PostgreSQL "
                "for the change listener and migrations (LISTEN and session locks do not "
                "survive transaction pooling)"
            )
        return self


NO_DATABASE_URL = (
    "DATABASE_URL is not set: set it to a PostgreSQL URL, or use `make run` (`make migrate`), "
    "which starts a project-local PostgreSQL and sets it"
)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Never echoed in an error line: the value is a credential.
_SECRET_SETTINGS = {"BOOTSTRAP_ADMIN_TOKEN"}
# Shown without their password.
_URL_SETTINGS = {"DATABASE_URL", "LISTEN_DATABASE_URL"}
TARGET_SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")


def check_postgres_url(url: str) -> None:
    """Refuse what libpq (and asyncpg) would not take as a PostgreSQL URL, saying why. A
    cluster is several hosts in one URL, ``postgresql://u@h1:5432,h2:5432/db?
    target_session_attrs=read-write``: the service then always talks to the primary."""
    scheme, netloc, tail = _split(url)
    if scheme not in ("postgresql", "postgres"):
        raise ValueError("must start with postgresql:// (or postgres://)")
    hosts = netloc.rpartition("@")[2]
    for host in hosts.split(",") if hosts else []:
        has_port = ":" in host and not host.endswith("]")  # [::1] alone has no port
        name, _, port = host.rpartition(":") if has_port else (host, "", "")
        if not name and port:
            raise ValueError(f"host {host!r}: a host name is missing before the port")
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"host {host!r}: the port must be a number from 1 to 65535")
    query = tail.partition("?")[2].partition("#")[0]
    attrs = urllib.parse.parse_qs(query).get("target_session_attrs", [])
    for attr in attrs:
        if attr not in TARGET_SESSION_ATTRS:
            raise ValueError(
                f"target_session_attrs={attr!r}: use one of {', '.join(TARGET_SESSION_ATTRS)}"
            )


def hosts_of(url: str) -> str:
    """The servers a URL names, for messages: ``db1:5432, db2:5432``."""
    hosts = _split(url)[1].rpartition("@")[2]
    return ", ".join(hosts.split(",")) or "the default host"


def without_password(url: str) -> str:
    """The URL as it may be logged or shown: any password replaced by ***."""
    scheme, netloc, tail = _split(url)
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}://{userinfo}{at}{hosts}{tail}" if scheme else url


def _split(url: str) -> tuple[str, str, str]:
    """``(scheme, netloc, the rest)`` by hand: ``urllib.parse.urlsplit`` refuses a netloc of
    several hosts with a bracketed IPv6 one (``h1:5432,[::1]:5433``) on some Python 3.11
    patch releases (Debian's 3.11.2: "Invalid IPv6 URL"), which libpq takes."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", "", url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    return scheme.lower(), rest[:end], rest[end:]


SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)


def describe_error(exc: pydantic.ValidationError) -> str:
    """One line per bad variable, naming it the way the operator spelled it."""
    lines = []
    for err in exc.errors():
        name = "_".join(str(part) for part in err["loc"]).upper()
        if not name:  # a rule across fields: its message names them, the input is everything
            lines.append(f"invalid settings: {err['msg'].removeprefix('Value error, ')}")
            continue
        shown = "a secret" if name in _SECRET_SETTINGS else repr(err.get("input"))
        if name in _URL_SETTINGS and isinstance(err.get("input"), str):
            shown = repr(without_password(err["input"]))
        lines.append(
            f"invalid setting {name}: {err['msg'].removeprefix('Value error, ')} (got {shown})"
        )
    return "; ".join(lines)


def load() -> Settings:
    """Read the settings, or exit with one line saying which variable is wrong."""
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        sys.exit(describe_error(exc))
