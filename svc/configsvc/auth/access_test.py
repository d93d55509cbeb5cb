"""Who may do what: every refusal raised (or, observing, counted) in one place."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.auth import access, tokens

APP, OTHER = "01HAPP", "01HOTHER"


def _caller(
    mode: access.Mode = "enforce", *, admin: bool = False,
    grants: dict[str, tokens.Access] | None = None, metrics: bool = False,
) -> access.Caller:  # fmt: skip
    token = tokens.Token("01HTOKEN", "t", admin, grants or {}, None, metrics)
    return access.Caller(token, mode)


def test_a_grant_allows_its_access_and_write_implies_read() -> None:
    reader = _caller(grants={APP: "read"})
    access.authorize(reader, APP, "read")
    with pytest.raises(errors.Forbidden, match=f"needs write access on {APP}"):
        access.authorize(reader, APP, "write")
    writer = _caller(grants={APP: "write"})
    access.authorize(writer, APP, "read")
    access.authorize(writer, APP, "write")


def test_a_wildcard_grant_covers_every_application() -> None:
    caller = _caller(grants={tokens.ALL: "read"})
    access.authorize(caller, OTHER, "read")
    with pytest.raises(errors.Forbidden, match="on every application"):
        access.authorize(_caller(grants={APP: "write"}), tokens.ALL, "write")


def test_a_hidden_target_is_refused_as_missing_not_forbidden() -> None:
    missing = errors.NotFound(f"no application with id {OTHER}")
    with pytest.raises(errors.NotFound) as refused:
        access.authorize(_caller(grants={APP: "write"}), OTHER, "read", missing=missing)
    assert refused.value is missing
    # Readable but not writable: the target's existence is no secret, so 403.
    with pytest.raises(errors.Forbidden):
        access.authorize(_caller(grants={APP: "read"}), APP, "write", missing=missing)


def test_observe_mode_counts_what_it_would_refuse_and_lets_it_pass(caplog) -> None:
    caller = _caller("observe")
    access.authorize(caller, APP, "write")
    access.require_admin(caller)
    access.require_metrics(caller)
    assert caller.observer.would_refuse == 3
    assert caplog.text.count("would refuse") == 3
    tokenless = access.Caller(None, "observe")
    assert access.may(tokenless, APP, "write"), "already counted when the token was found missing"


def test_off_mode_and_internal_callers_may_do_anything() -> None:
    for caller in (None, _caller("off"), access.Caller(None, "off")):
        access.authorize(caller, APP, "write")
        access.require_admin(caller)
        access.require_metrics(caller)
        assert access.readable(caller) is None


def test_a_tokenless_caller_is_refused_when_enforcing() -> None:
    caller = access.Caller(None)
    assert not access.may(caller, APP, "read")
    with pytest.raises(errors.Forbidden):
        access.require_admin(caller)
    assert access.readable(caller) is None, "a tokenless request never got this far"


def test_admin_and_metrics_need_their_own_token_kind() -> None:
    admin = _caller(admin=True)
    access.require_admin(admin)
    access.require_metrics(admin)
    scraper = _caller(metrics=True)
    access.require_metrics(scraper)
    with pytest.raises(errors.Forbidden, match="needs an admin token"):
        access.require_admin(scraper)
    with pytest.raises(errors.Forbidden, match='"metrics" grant'):
        access.require_metrics(_caller(grants={tokens.ALL: "write"}))


def test_readable_lists_the_granted_applications_only_when_enforcing() -> None:
    grants: dict[str, tokens.Access] = {APP: "read", OTHER: "write"}
    assert sorted(access.readable(_caller(grants=grants)) or []) == sorted([APP, OTHER])
    assert access.readable(_caller("observe", grants=grants)) is None
