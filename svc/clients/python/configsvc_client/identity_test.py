from __future__ import annotations

import os

from configsvc_contract import models

from configsvc_client import identity


def test_a_process_has_one_id_and_its_labels() -> None:
    assert identity.client_id() == identity.client_id()
    labels = identity.default_labels()
    assert set(labels) == {"host", "pid", "service"}
    assert labels["pid"] == str(os.getpid())
    assert identity.sdk().startswith("configsvc-client/")


def test_a_hello_sends_as_many_labels_as_the_service_takes() -> None:
    labels = {f"k{n}": "v" for n in range(models.LABELS_MAX + 5)}
    hello = identity.hello(labels)
    assert models.Hello.model_validate(hello).client_id == identity.client_id()
    assert len(hello["labels"]) == models.LABELS_MAX
