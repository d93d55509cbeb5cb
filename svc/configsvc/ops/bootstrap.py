"""``BOOTSTRAP_ADMIN_TOKEN``: stored as the admin token ``bootstrap`` when a worker starts, so a
fresh deployment has a way in (a second worker finds it stored and does nothing)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from configsvc import settings as settings_mod
from configsvc.db import database
from configsvc.service import tokens as token_service

log = logging.getLogger(__name__)


async def bootstrap_ctx(app: web.Application) -> AsyncIterator[None]:
    token = app[settings_mod.SETTINGS].bootstrap_admin_token
    if token is not None and await token_service.bootstrap(
        app[database.DB], token.get_secret_value()
    ):
        log.info("stored BOOTSTRAP_ADMIN_TOKEN as admin token 'bootstrap'")
    yield
