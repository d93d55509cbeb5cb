"""``python -m bench``'s command line (the run itself is ``make bench``)."""

from __future__ import annotations

import pytest

from bench import __main__ as bench_main


def test_help_names_the_quick_run_and_the_phases(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        bench_main.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out
    assert "--only {rest,live,scale,cache}" in out


def test_an_unknown_phase_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        bench_main.main(["--only", "fanout"])
    assert done.value.code == 2
    assert "invalid choice: 'fanout'" in capsys.readouterr().err


def test_say_writes_progress_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    bench_main.say("seeded 3 applications")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "seeded 3 applications\n")
