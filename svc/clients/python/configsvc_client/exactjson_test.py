"""The old path of the exact JSON codec: still importable for one release, with a warning."""

from __future__ import annotations

import pytest
from configsvc_contract import exactjson

from configsvc_client.models_test import import_afresh


def test_the_old_module_warns_and_names_the_new_one() -> None:
    with pytest.warns(DeprecationWarning, match=r"import configsvc_contract\.exactjson instead"):
        shim = import_afresh("configsvc_client.exactjson")
    assert (shim.dumps, shim.loads) == (exactjson.dumps, exactjson.loads)
