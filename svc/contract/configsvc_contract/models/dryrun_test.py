from __future__ import annotations

from configsvc_contract.models import dryrun


def test_a_dry_run_says_what_the_write_would_answer() -> None:
    answer = dryrun.DryRun.model_validate(
        {"valid": True, "errors": [], "status": 201, "patch": [], "would_be_version": 1,
         "subscribers": 0}
    )  # fmt: skip
    assert (answer.status, answer.reach) == (201, None)
