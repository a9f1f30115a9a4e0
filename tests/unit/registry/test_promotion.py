"""Gate parsing and metric scoring of shipyard/registry/promotion.py (no MLflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from shipyard.errors import InvalidInput
from shipyard.registry.promotion import (
    PromotionGate,
    default_metric,
    evaluate,
    frame_sha256,
    normalize_gates,
    parse_gate,
)


def test_parse_gate_reads_metric_operator_threshold() -> None:
    assert parse_gate("auc>=0.8") == PromotionGate("auc", 0.8, ">=")
    assert parse_gate(" log_loss <= 0.5 ") == PromotionGate("log_loss", 0.5, "<=")


def test_mapping_gates_take_direction_from_metric() -> None:
    assert normalize_gates({"auc": 0.7, "rmse": 2}) == [
        PromotionGate("auc", 0.7, ">="),
        PromotionGate("rmse", 2.0, "<="),
    ]
    assert normalize_gates(None) == []


@pytest.mark.parametrize(
    "gates, fragment",
    [
        (["auc>0.8"], "METRIC>=VALUE"),
        (["auc>=abc"], "METRIC>=VALUE"),
        (["auc>=1e"], "not a number"),
        (["speed>=3"], "unknown"),
        ({"auc": "high"}, "not a number"),
        ({"auc": True}, "not a number"),
        ({"nope": 1.0}, "unknown"),
        ("auc>=0.8", "list of gates"),
        ([PromotionGate("auc", float("nan"))], "finite"),
        ([PromotionGate("auc", 0.5, "==")], "operator"),
    ],
)
def test_bad_gates_are_refused_with_the_rule(gates: object, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        normalize_gates(gates)  # type: ignore[arg-type]


def test_gate_holds_in_its_direction() -> None:
    assert PromotionGate("auc", 0.8).holds(0.8) and not PromotionGate("auc", 0.8).holds(0.79)
    assert PromotionGate("rmse", 1.0, "<=").holds(0.5) and not PromotionGate("rmse", 1.0, "<=").holds(1.5)


def _frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(rows, 2)), columns=["a", "b"])
    df["y"] = (df["a"] > 0).astype(int)
    return df


def test_evaluate_scores_classifier_and_regressor() -> None:
    df = _frame()
    clf = LogisticRegression().fit(df[["a", "b"]], df["y"])
    scores = evaluate(clf, df, ["a", "b"], "y", {"auc", "accuracy", "f1", "log_loss", "brier"})
    assert scores["auc"] > 0.95 and scores["accuracy"] > 0.9 and scores["log_loss"] < 0.5
    assert default_metric(clf) == "auc"
    reg = LinearRegression().fit(df[["a"]], df["b"])
    assert set(evaluate(reg, df, ["a"], "b", {"rmse", "mae", "r2"})) == {"rmse", "mae", "r2"}
    assert default_metric(reg) == "rmse"
    with pytest.raises(InvalidInput, match="predict_proba"):
        evaluate(reg, df, ["a"], "b", {"auc"})


def test_frame_hash_is_content_based() -> None:
    df = _frame()
    assert frame_sha256(df) == frame_sha256(df.copy())
    assert frame_sha256(df) != frame_sha256(df.assign(a=df["a"] + 1))
