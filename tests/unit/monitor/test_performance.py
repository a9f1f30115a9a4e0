"""Delayed labels joined to logged predictions; metrics on rolling windows; latency percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from shipyard.errors import InvalidInput, NotFound
from shipyard.monitor import PredictionRecord
from shipyard.monitor.performance import expected_calibration_error, metrics

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def log(ws: Any, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    records = [
        PredictionRecord(
            request_id=f"q{i}",
            ts=T0 + timedelta(hours=i % 48),
            entity={"customer_id": i},
            features={"x": float(i)},
            output={"probability": float(p[i])},
            latency_ms=float(i % 100),
        )
        for i in range(n)
    ]
    ws.monitor.log_predictions("churn", "1", records)
    return pd.DataFrame({"request_id": [f"q{i}" for i in range(n)], "label": y, "p": p})


def test_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1_000).astype(float)
    p = np.clip(0.4 * y + rng.uniform(0, 0.6, 1_000), 0, 1)
    got = metrics(y, p)
    assert got["auc"] == pytest.approx(roc_auc_score(y, p))
    assert got["f1"] == pytest.approx(f1_score(y, p >= 0.5))
    assert got["auc_low"] < got["auc"] < got["auc_high"]
    regression = metrics(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 4.0]))
    assert regression["rmse"] == pytest.approx(np.sqrt(1 / 3)) and regression["mae"] == pytest.approx(1 / 3)


def test_perfectly_calibrated_scores_have_small_ece() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1


def test_labels_by_request_id_give_daily_metrics(workspace: Any, tmp_path: Path) -> None:
    truth = log(workspace)
    extra = pd.DataFrame({"request_id": ["nobody"], "label": [1]})
    pd.concat([truth[["request_id", "label"]], extra]).to_csv(tmp_path / "l.csv", index=False)
    ingest = workspace.monitor.ingest_labels("churn", tmp_path / "l.csv")
    assert (ingest.rows, ingest.matched, ingest.unmatched) == (401, 400, 1)
    windows = workspace.monitor.performance("churn", "1D")
    assert [w.rows for w in windows] == [208, 192]  # hours i % 48: 8 full days + 16
    first = truth.iloc[[i for i in range(400) if i % 48 < 24]]
    assert windows[0].metrics["auc"] == pytest.approx(roc_auc_score(first["label"], first["p"]))


def test_labels_by_entity_and_time(workspace: Any, tmp_path: Path) -> None:
    from shipyard.store.models import Deployment

    with workspace.store.session() as session:
        session.add(
            Deployment(
                project=workspace.project,
                name="churn",
                model_name="churn",
                model_version="1",
                model_uri="m",
                triton_model="t",
                feature_refs=["c:x"],
                entity_keys=["customer_id"],
            )
        )
    log(workspace, 100)
    labels = pd.DataFrame({"customer_id": [1, 2, 3], "ts": [T0 + timedelta(days=3)] * 3, "label": [1, 0, 1]})
    labels.to_parquet(tmp_path / "l.parquet")
    assert workspace.monitor.ingest_labels("churn", tmp_path / "l.parquet").matched == 3


def test_latency_percentiles_per_window(workspace: Any) -> None:
    log(workspace, 400)
    windows = workspace.monitor.latency("churn", "1D")
    assert len(windows) == 2 and windows[0].metrics["requests"] == 208
    assert windows[0].metrics["p50_ms"] <= windows[0].metrics["p95_ms"] <= windows[0].metrics["p99_ms"]


def test_performance_without_labels_is_not_found(workspace: Any) -> None:
    with pytest.raises(NotFound, match="no labels"):
        workspace.monitor.performance("churn")


def test_bad_window_frequency(workspace: Any, tmp_path: Path) -> None:
    log(workspace, 10)
    with pytest.raises(InvalidInput, match="pandas frequency"):
        workspace.monitor.latency("churn", "fortnightly")


def test_metrics_carry_95_percent_intervals_that_narrow_with_more_rows() -> None:
    rng = np.random.default_rng(2)

    def widths(n: int) -> dict[str, float]:
        y = (rng.random(n) < 0.4).astype(float)
        score = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1)
        out = metrics(y, score)
        for name in ("auc", "f1", "precision", "recall"):
            assert out[f"{name}_low"] <= out[name] <= out[f"{name}_high"], (name, out)
        return {k: out[f"{k}_high"] - out[f"{k}_low"] for k in ("f1", "precision", "recall")}

    small, large = widths(200), widths(20_000)
    assert all(large[k] < small[k] / 5 for k in small), (small, large)

    err = rng.normal(0, 2, 5_000)
    out = metrics(np.zeros(5_000) + 3.5, 3.5 + err)
    for name in ("rmse", "mae"):
        assert out[f"{name}_low"] < out[name] < out[f"{name}_high"] < out[f"{name}_low"] + 0.2, (name, out)
