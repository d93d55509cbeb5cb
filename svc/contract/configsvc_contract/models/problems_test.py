from __future__ import annotations

from configsvc_contract.models import problems


def test_a_problem_carries_only_what_it_has() -> None:
    problem = problems.Problem.model_validate(
        {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "d",
         "configurations": [{"id": "c", "name": "prod", "errors": [
             {"field": "config/rate", "keyword": "maximum", "message": "too big"}]}]}
    )  # fmt: skip
    assert (problem.errors, problem.first_revision) == (None, None)
    assert problem.configurations is not None
    assert problem.configurations[0].errors[0].keyword == "maximum"
