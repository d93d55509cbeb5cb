"""The old path of the wire models: importable for one release, saying where they went."""

from __future__ import annotations

import sys
from types import ModuleType

import pytest
from configsvc_contract import models


def import_afresh(name: str) -> ModuleType:
    """Import ``name`` again, so that its import-time warning is given again; by ``__import__``,
    as an import statement does (``importlib.import_module`` would be the importer)."""
    sys.modules.pop(name, None)
    __import__(name)
    return sys.modules[name]


def test_the_old_module_warns_and_names_the_new_one() -> None:
    with pytest.warns(DeprecationWarning, match=r"import configsvc_contract\.models instead"):
        shim = import_afresh("configsvc_client.models")
    assert set(models.__all__) <= set(dir(shim))
    assert shim.ConfigurationIn is models.ConfigurationIn
    assert (shim.ID_PATTERN, shim.comments_pattern) == (models.ID_PATTERN, models.comments_pattern)


def test_the_warning_points_at_the_importer() -> None:
    with pytest.warns(DeprecationWarning, match="configsvc_contract") as caught:
        import_afresh("configsvc_client.models")
    assert [w.filename for w in caught] == [__file__]
