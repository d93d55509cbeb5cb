import json
from pathlib import Path

from bench import dataset, scenarios
from configsvc.service import schemas


def test_generate_makes_rows_in_column_order() -> None:
    apps, configs = dataset.generate(3, 2)
    assert len(apps) == 3
    assert len(configs) == 6
    assert all(len(row) == len(dataset.APP_COLUMNS) for row in apps)
    assert all(len(row) == len(dataset.CONFIG_COLUMNS) for row in configs)
    assert {row[1] for row in configs} == {row[0] for row in apps}
    assert 900 <= len(str(configs[0][4])) <= 1400
    assert isinstance(json.loads(str(configs[0][4])), dict)


def test_dataset_survives_a_round_trip_through_files(tmp_path: Path) -> None:
    data = dataset.Dataset(["A1", "A2"], [dataset.Config("C1", "config-00", "A1")])
    data.write(tmp_path)
    assert dataset.Dataset.read(tmp_path) == data


def test_each_half_gets_its_own_ids(tmp_path: Path) -> None:
    configs = [dataset.Config("C1", "config-00", "A1"), dataset.Config("C2", "config-00", "A2")]
    dataset.Dataset(["A1", "A2"], configs, frozenset({"A1"})).write(tmp_path)
    assert dataset.Dataset.read(tmp_path / "schema").configurations == configs[:1]
    assert dataset.Dataset.read(tmp_path / "plain").configurations == configs[1:]
    assert [row[1] for row in dataset.schema_rows(["A1", "A2", "A3"])] == ["A1", "A3"]


def test_the_bench_configurations_pass_the_bench_schema() -> None:
    validator = schemas.compile_checked(scenarios.SCHEMA)
    assert schemas.violations(validator, scenarios.config_body(7)) == []
    assert schemas.violations(validator, {**scenarios.config_body(7), "seq": -1}) != []
