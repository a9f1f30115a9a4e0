"""Load lines, columns and masking in the extractive answer."""

from __future__ import annotations

import pytest

from shipyard.copilot.answer import describe_columns, load_line


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        ({"kind": "table", "name": "t", "source": "data/t.parquet"}, "pd.read_parquet('data/t.parquet')"),
        ({"kind": "table", "name": "t", "source": "s3://b/t.csv"}, "pd.read_csv('s3://b/t.csv')"),
        (
            {"kind": "column", "name": "t.c", "source": "data/t.parquet"},
            "pd.read_parquet('data/t.parquet')['c']",
        ),
        ({"kind": "model", "name": "churn"}, "mlflow.pyfunc.load_model('models:/churn@champion')"),
        ({"kind": "table", "name": "t", "source": ""}, ""),
    ],
)
def test_load_line(payload: dict[str, str], line: str) -> None:
    assert load_line(payload) == line


def test_feature_load_line_uses_shipyard_features() -> None:
    assert "shipyard.features.online_features" in load_line({"kind": "feature", "name": "v:f"})


@pytest.mark.parametrize(("masked", "label"), [(True, "[masked]"), (False, "[sensitive, granted]")])
def test_masked_column_values_never_shown(masked: bool, label: str) -> None:
    payload = {
        "columns": [
            {"name": "email", "type": "str", "sensitive": True, "masked": masked, "samples": ["a@x.org"]},
            {"name": "country", "type": "str", "sensitive": False, "samples": ["DE"]},
        ]
    }
    text = describe_columns(payload, "email")
    assert text.startswith(f"email (str) {label}")
    assert ("a@x.org" in text) is not masked and "DE" in text


def test_sensitive_column_without_a_decision_is_masked() -> None:
    payload = {"columns": [{"name": "email", "type": "str", "sensitive": True, "samples": ["a@x.org"]}]}
    assert "a@x.org" not in describe_columns(payload, None)
