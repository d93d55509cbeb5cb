import os

from bench import cpus


def test_two_cpus_are_split_between_server_and_load() -> None:
    pinning = cpus.plan({0, 1})
    assert pinning.server == {0}
    assert pinning.load == {1}
    assert pinning.pinned


def test_load_gets_the_last_of_many_cpus() -> None:
    pinning = cpus.plan({0, 1, 2, 3})
    assert pinning.server == {0, 1, 2}
    assert pinning.load == {3}


def test_one_cpu_is_shared_and_says_so() -> None:
    pinning = cpus.plan({5})
    assert pinning.server == pinning.load == {5}
    assert not pinning.pinned
    assert pinning.as_json() == {"pinned": False, "server": [5], "load": [5]}


def test_pin_sets_this_process_affinity() -> None:
    before = os.sched_getaffinity(0)
    try:
        one = frozenset({min(before)})
        cpus.pin(one)
        assert os.sched_getaffinity(0) == one
    finally:
        os.sched_setaffinity(0, before)
