"""Deprecated: the exact JSON codec is ``configsvc_contract.exactjson`` now, in the distribution
``configsvc-contract`` that the client depends on. Kept for one release: it re-exports it."""

import warnings

from configsvc_contract.exactjson import dumps, loads

__all__ = ["dumps", "loads"]

warnings.warn(
    "configsvc_client.exactjson is deprecated: import configsvc_contract.exactjson instead",
    DeprecationWarning,
    stacklevel=2,  # the importer's line (the import machinery's own frames are skipped)
)
