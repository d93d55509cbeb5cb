from __future__ import annotations

from configsvc_contract.models import fleet


def test_a_summary_counts_clients_by_version() -> None:
    summary = fleet.ClientsSummary.model_validate(
        {"versions": {"3": 2}, "rejected": {}, "unknown": 1}
    )
    assert summary.versions == {"3": 2}
    assert fleet.FleetClients.model_validate({"items": []}).items == []
