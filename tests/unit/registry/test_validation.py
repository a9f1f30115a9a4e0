"""Every bad argument to log_model is rejected before MLflow is touched, naming the culprit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.config import default_toml
from shipyard.errors import InvalidInput
from shipyard.registry.validation import entity_keys, validate_log_inputs
from shipyard.workspace import Workspace

FEATURES = ["a", "b"]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"customer_id": np.arange(40), "a": rng.normal(size=40), "b": rng.normal(size=40)})
    df["event_timestamp"] = pd.Timestamp("2024-01-01", tz="UTC")
    df["churned"] = (df["a"] > 0).astype(int)
    df["segment"] = "x"
    return df


def _model() -> LogisticRegression:
    df = _frame()
    return LogisticRegression().fit(df[FEATURES], df["churned"])


def _args(**over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": _model(),
        "frame": _frame(),
        "feature_columns": FEATURES,
        "target": "churned",
        "feature_refs": ["profile:a", "activity:b"],
    }
    args.update(over)
    return args


def test_valid_inputs_return_entity_keys() -> None:
    assert validate_log_inputs(**_args()) == ["customer_id", "segment"]
    assert validate_log_inputs(**_args(keys=["customer_id"])) == ["customer_id"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"model": object()}, "has no predict"),
        ({"model": LogisticRegression()}, "not fitted"),
        ({"frame": {"a": [1]}}, "must be a pandas DataFrame"),
        ({"frame": _frame().iloc[0:0]}, "has no rows"),
        ({"feature_columns": "a,b"}, "feature_columns must be a list"),
        ({"feature_columns": []}, "feature_columns is empty"),
        ({"feature_columns": ["a", "a"]}, "more than once"),
        ({"feature_columns": ["a", "nope"]}, "not in training_frame: nope"),
        ({"feature_columns": ["a", ""]}, "non-empty strings"),
        ({"feature_columns": ["a", 3]}, "non-empty strings"),
        ({"target": "label"}, "target 'label' is not a column"),
        ({"target": None}, "target None"),
        ({"feature_columns": ["a", "churned"]}, "also listed in feature_columns"),
        ({"feature_columns": ["a", "segment"]}, "not numeric: segment"),
        ({"feature_refs": ["profile_a"]}, "not of the form 'view:feature'"),
        ({"feature_refs": [":a"]}, "not of the form"),
        ({"feature_refs": ["profile:"]}, "not of the form"),
        ({"feature_refs": "profile:a"}, "feature_refs must be a list"),
        ({"keys": ["nope"]}, "entity_keys not in training_frame: nope"),
        ({"keys": ["a"]}, "entity_keys a are also features"),
        ({"keys": ["churned"]}, "also features or the target"),
        ({"keys": "customer_id"}, "entity_keys must be a list"),
    ],
)
def test_bad_inputs_are_rejected(over: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_log_inputs(**_args(**over))


def test_entity_keys_skip_features_target_and_timestamps() -> None:
    df = _frame().assign(ts=pd.Timestamp("2024-01-02"))
    assert entity_keys(df, FEATURES, "churned") == ["customer_id", "segment"]


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "shipyard.toml").write_text(default_toml("unit"))
    return Workspace.open(tmp_path)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"name": "bad name"}, "model name"),
        ({"alias": "latest"}, "alias"),
        ({"metrics": {"auc": "high"}}, "metric 'auc' must be a number"),
        ({"metrics": {"auc": float("nan")}}, "metric 'auc' is NaN"),
        ({"metrics": [("auc", 1.0)]}, "metrics must be a dict"),
        ({"params": {"blob": "x" * 7000}}, "param 'blob' is 7000 characters"),
        ({"params": ["C"]}, "params must be a dict"),
        ({"target": "nope"}, "target 'nope'"),
    ],
)
def test_log_model_rejects_bad_input_before_touching_mlflow(
    ws: Workspace, over: dict[str, Any], message: str
) -> None:
    kwargs: dict[str, Any] = {
        "name": "churn",
        "training_frame": _frame(),
        "feature_columns": FEATURES,
        "target": "churned",
        "feature_refs": ["profile:a", "activity:b"],
        "metrics": {"auc": 0.8},
        "params": {"C": 1.0},
    }
    kwargs.update(over)
    with pytest.raises(InvalidInput, match=message):
        ws.registry.log_model(_model(), **kwargs)
    assert not (ws.state_dir / "mlflow.db").exists()
