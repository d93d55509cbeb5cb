"""The REST API. ``routes`` is imported first: ``history`` builds its operations on it."""

from configsvc.api import routes as routes
