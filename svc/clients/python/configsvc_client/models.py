"""Deprecated: the wire models are ``configsvc_contract.models`` now, in the distribution
``configsvc-contract`` that the client depends on. Kept for one release: it re-exports them."""

import warnings

from configsvc_contract.models import *  # noqa: F403
from configsvc_contract.models import __all__ as __all__

warnings.warn(
    "configsvc_client.models is deprecated: import configsvc_contract.models instead",
    DeprecationWarning,
    stacklevel=2,  # the importer's line (the import machinery's own frames are skipped)
)
