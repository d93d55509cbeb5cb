"""Generated requests against a real server: no 5xx, and every response as the document says.

schemathesis takes the document (the one the server serves: openapi_test checks they are equal),
generates valid and invalid requests for every operation (its examples, the coverage phase's
boundary values, then random ones), then chains of them along the links it infers (create,
then read, replace, delete what was created), and runs every check it has on each response:
status documented, content type, headers, body schema, invalid input refused, valid input
accepted, the methods a path lacks refused with 405 and `Allow`, ... ``make test`` runs a short
pass (well under a minute); ``make fuzz`` (``-m fuzz``) a long one, sized by FUZZ_EXAMPLES.

Requests carry the session's admin token, which no generated request can lock out: an expiry
in the past is refused (422), a generated id names no token, and the workflows, which could
follow /tokens/self to its id, leave tokens out. The last test proves it still works.
"""

from __future__ import annotations

import json
import os
import urllib.request

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import failures
from schemathesis.specs.openapi import checks

import conftest
from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.api import openapi

SHORT = 25
# Generated requests come with the admin token: unauthenticated, every one would be a 401.
ADMIN = conftest.ADMIN_HEADERS
# Set by `make fuzz` (300 unless given). Unset, the long run is not selected (`-m 'not fuzz'`),
# and is built without its coverage phase: those cases are made when pytest collects.
LONG = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None

DOCUMENTED = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]

# Valid by the document, refused for what the state of the service says, not its shape: a
# cursor this API did not return, an expiry that has passed by the time it arrives, an id or a
# revision that does not exist (yet, or any more), a configuration its application's JSON
# Schema refuses. And what no pattern can say: a rollout's step percents strictly increasing,
# the last one 100; a schema document that is not a valid draft
# 2020-12 schema (the meta-schema is a document of its own), a date-time valid in RFC 3339 but
# outside the years 1 to 9999 once in UTC (0001-01-01T00:00:00+01:00). Any other 422 of a valid
# request is a document that says too little.
STATEFUL_FIELDS = frozenset(
    {"cursor", "expires_at", "application_id", "at_revision", "to_revision", "to_version",
     "since", "until"}
)  # fmt: skip
SCHEMA_PROBLEM = "urn:configsvc:problem:schema"


def _refused_for_state(response: schemathesis.Response) -> bool:
    if response.status_code == 412:  # If-Match names a version the resource has moved past
        return True
    if response.status_code != 422:
        return False
    problem = response.json()
    fields = {error["field"] for error in problem.get("errors", [])}
    if fields and all(field.startswith("steps.") for field in fields):
        return True  # across the steps (service/rollouts.check_steps)
    return problem["type"] == SCHEMA_PROBLEM or (bool(fields) and fields <= STATEFUL_FIELDS)


def accepts_valid_data(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for refusals the state explains."""
    try:
        return checks.positive_data_acceptance(ctx, response, case)
    except failures.Failure:
        if _refused_for_state(response):
            return None
        raise


ALL_CHECKS = {
    "excluded_checks": [checks.positive_data_acceptance],
    "additional_checks": [accepts_valid_data],
}


def _document() -> dict:
    """Built here so pytest knows the operations when it collects; requests go to a real server."""
    settings = settings_mod.Settings(database_url="postgresql://unused/unused", _env_file=None)
    return openapi.document(app_mod.create_app(settings))


def _schema(examples: int | None) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": examples or SHORT,
                # The token is sent with every call (ADMIN): leaving it out is not
                # a negative case of the operation's own data.
                "with-security-parameters": False,
            },
            "phases": {"coverage": {"enabled": examples is not None}},
        }
    )
    # The feed is a WebSocket: its frames are checked against the AsyncAPI document
    # (asyncapi_test); over plain HTTP it only ever answers 426.
    schema = schemathesis.openapi.from_dict(_document(), config=config)
    return schema.exclude(path=openapi.WS_PATH)


short = _schema(SHORT)
long = _schema(LONG)


@pytest.fixture(scope="module")
def fuzz_database(admin_url, template_url):
    """One fresh database for the module: generated inputs pile up state in it, as production's
    requests do (and a server per operation would cost seconds each)."""
    with conftest.template_copy(admin_url, f"configsvc_fuzz_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="module")
def service(fuzz_database):
    server = conftest.Service(fuzz_database, 1, {})
    try:
        server.start()
        yield server
    finally:
        server.stop()


@short.parametrize()
def test_generated_requests_get_documented_responses(case, service) -> None:
    case.call_and_validate(base_url=service.url, headers=ADMIN, **ALL_CHECKS)


# schemathesis draws query values from their schemas; these are what a schema does not suggest:
# other scripts' digits ("²", "\u0661"), NUL and other controls, and numbers too long for int().
QUERY_VALUES = (
    st.text(st.characters(categories=("Nd", "No", "Cc", "Zs")), max_size=4)
    | st.integers(-(10**12), 10**12).map(str)
    | st.integers(4000, 5000).map(lambda n: "9" * n)
    | st.text(max_size=40)
)
LISTS = [("/api/v1/applications", ("limit", "cursor", "name")),
         ("/api/v1/applications/{id}/configurations", ("limit", "cursor"))]  # fmt: skip


@pytest.mark.parametrize(("path", "names"), LISTS)
def test_any_query_value_gets_a_documented_response(service, path, names) -> None:
    operation = short[path]["GET"]

    @hypothesis.given(st.dictionaries(st.sampled_from(names), QUERY_VALUES, min_size=1))
    @hypothesis.settings(max_examples=SHORT * 4, deadline=None, database=None)
    def check(query):
        # Past 8 KiB the request line is refused by aiohttp's parser (400, text/plain) before
        # the application sees it: a limit of the HTTP layer, not of this API.
        hypothesis.assume(sum(map(len, query.values())) < 7000)
        case = operation.Case(path_parameters={"id": "0" * 26}, query=query)
        case.call_and_validate(base_url=service.url, checks=DOCUMENTED, headers=ADMIN)

    check()


def _run_workflows(schema, url: str, database_url: str, examples: int) -> None:
    # Tokens stay out of the workflows: they are the caller's own credentials (a chain could
    # revoke the token it runs with), and their last use changes between replays, which
    # hypothesis rightly calls flaky. Each token operation is still fuzzed on its own above.
    schema = schema.exclude(tag="tokens")

    class Workflow(schema.as_state_machine()):
        def setup(self):
            # Hypothesis replays and shrinks scenarios: each must start from the same state,
            # or a name created by the last one turns this one's 201 into a 409.
            conftest.run_sql(database_url, "TRUNCATE applications CASCADE")

        def get_call_kwargs(self, case):
            return {"base_url": url, "headers": ADMIN}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, **ALL_CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=examples, deadline=None, stateful_step_count=10, database=None
        )
    )


def test_generated_workflows_get_documented_responses(service, fuzz_database) -> None:
    _run_workflows(short, service.url, fuzz_database, SHORT)


@pytest.mark.fuzz
@long.parametrize()
def test_fuzz_requests(case, service) -> None:
    case.call_and_validate(base_url=service.url, headers=ADMIN, **ALL_CHECKS)


@pytest.mark.fuzz
def test_fuzz_workflows(service, fuzz_database) -> None:
    _run_workflows(long, service.url, fuzz_database, LONG or SHORT)


def test_the_token_the_requests_came_with_still_works(service) -> None:
    """Last in the module: nothing generated above locked the caller out (an expiry in the
    past, say), which would have turned every later check into a 401 that proves nothing."""
    request = urllib.request.Request(f"{service.url}/api/v1/tokens/self", headers=ADMIN)
    with urllib.request.urlopen(request, timeout=10) as resp:
        own = json.load(resp)
    assert (own["name"], own["admin"], own["expires_at"]) == ("bootstrap", True, None)
