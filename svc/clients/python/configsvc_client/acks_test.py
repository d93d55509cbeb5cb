from __future__ import annotations

from configsvc_contract import models

from configsvc_client import acks, live_test


def test_an_ack_is_what_the_service_takes() -> None:
    configuration = models.Configuration.model_validate(live_test.conf(1, "limits", {}, 3))
    results = [acks.applied(configuration), acks.rejected(configuration, "x" * 5000)]
    ack = models.Ack.model_validate(acks.frame(live_test.APP, 9, results))
    assert [(r.status, r.version) for r in ack.results] == [("applied", 3), ("rejected", 3)]
    assert ack.results[1].reason == "x" * acks.REASON_KEPT
