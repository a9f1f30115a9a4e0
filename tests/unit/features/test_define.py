"""Definition cells: syntax and runtime errors name the cell line; unsafe names never reach Feast or SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.features.define import cell_contents
from shipyard.features.validation import checked_name

HEADER = """from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32
"""


def _cell(
    view: str = "spend", feature: str = "amount", entity: str = "customer", key: str = "customer_id"
) -> str:
    return HEADER + (
        f'e = Entity(name="{entity}", join_keys=["{key}"])\n'
        f'v = FeatureView(name="{view}", entities=[e], ttl=timedelta(days=1), '
        f'schema=[Field(name="{feature}", dtype=Float32)], '
        'source=FileSource(path="x.parquet", timestamp_field="ts"))\n'
    )


def test_a_valid_cell_yields_feast_objects(tmp_path: Path) -> None:
    contents = cell_contents(_cell(), tmp_path)
    assert [v.name for v in contents.feature_views] == ["spend"]
    assert [e.name for e in contents.entities] == ["customer"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (HEADER + "v = FeatureView(name='x'\n", "cell, line 4: syntax error"),
        ("x = 1\n\ny = undefined_name\n", "cell, line 3: NameError"),
        ("x = 1\n", "defines no Feast"),
        ("   \n", "cell is empty"),
    ],
)
def test_broken_cells_name_the_line(tmp_path: Path, code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        cell_contents(code, tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"view": "spend; DROP TABLE x"},
        {"view": "select"},
        {"feature": "amount' OR '1'='1"},
        {"feature": "from"},
        {"entity": "table"},
        {"key": "id--"},
        {"view": "a b"},
    ],
)
def test_unsafe_names_are_refused_before_any_sql(tmp_path: Path, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match="not allowed|reserved word"):
        cell_contents(_cell(**kwargs), tmp_path)


@pytest.mark.parametrize("name", ["x;y", "1abc", "", "drop", "a" * 129, None])
def test_checked_name_refuses(name: object) -> None:
    with pytest.raises(InvalidInput):
        checked_name(name, "feature")


def test_checked_name_accepts_identifiers() -> None:
    assert checked_name("ltv_90d", "feature") == "ltv_90d"
