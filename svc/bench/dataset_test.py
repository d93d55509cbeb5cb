import json
from pathlib import Path

from bench import dataset


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
