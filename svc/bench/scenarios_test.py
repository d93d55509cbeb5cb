import json

import pytest

from bench import scenarios


def test_put_body_is_valid_json_of_about_one_kilobyte() -> None:
    text = scenarios.PUT_CONFIG.fill(NAME="config-03", SEQ="17")
    body = json.loads(text)
    assert body["name"] == "config-03"
    assert body["config"]["seq"] == 17
    assert 900 <= len(json.dumps(body["config"])) <= 1400


def test_post_body_names_the_application_and_a_new_name() -> None:
    body = json.loads(scenarios.POST_CONFIG.fill(APP="A" * 26, UNIQUE="n-1", SEQ="1"))
    assert (body["application_id"], body["name"]) == ("A" * 26, "n-1")


def test_scenarios_say_what_they_need() -> None:
    assert scenarios.HELLO.needs == set()
    assert scenarios.GET_CONFIG.needs == {"config"}
    assert scenarios.PUT.needs == {"config", "NAME", "SEQ"}
    assert scenarios.POST.needs == {"APP", "UNIQUE", "SEQ"}


def test_unknown_hole_is_refused() -> None:
    with pytest.raises(ValueError):
        scenarios._template({"x": "@NOPE@"})
