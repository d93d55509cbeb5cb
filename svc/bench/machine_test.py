from bench import machine


def test_describe_names_the_machine() -> None:
    facts = machine.describe()
    assert isinstance(facts["cpus"], int)
    assert facts["cpus"] >= 1
    assert facts["cpu"]
    assert facts["python"]
