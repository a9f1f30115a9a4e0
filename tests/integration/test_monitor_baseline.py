"""A performance drop is judged against the validation metric the real MLflow registry recorded for the
deployed version when the rules name no baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.monitor import PredictionRecord
from shipyard.monitor.alerts import MonitorRules
from shipyard.store.models import Deployment

pytestmark = pytest.mark.integration
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def test_performance_alert_uses_the_registry_validation_metric(workspace: Any) -> None:
    ws = workspace
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"customer_id": np.arange(400), "x": rng.normal(size=400)})
    frame["churned"] = (frame["x"] > 0).astype(int)
    info = ws.registry.log_model(
        LogisticRegression().fit(frame[["x"]], frame["churned"]),
        name="churn",
        training_frame=frame,
        feature_columns=["x"],
        target="churned",
        feature_refs=["c:x"],
        metrics={"auc": 0.93},
        params={},
    )
    reference = ws.state_dir / "ref.parquet"
    frame[["x"]].to_parquet(reference)
    with ws.store.session() as session:
        session.add(
            Deployment(
                project=ws.project,
                name="churn",
                model_name="churn",
                model_version=info.version,
                model_uri=info.model_uri,
                triton_model="churn_1",
                feature_refs=["c:x"],
                entity_keys=["customer_id"],
                reference_path=str(reference),
            )
        )
    ws.monitor.configure("churn", MonitorRules(window_rows=100, metric="auc", performance_drop=0.05))
    assert ws.monitor.validation_metric("churn", "auc") == pytest.approx(0.93)

    scores = rng.random(200)  # the model has decayed to chance
    ws.monitor.log_predictions(
        "churn",
        info.version,
        [
            PredictionRecord(
                f"r{i}", T0 + timedelta(seconds=i), {"customer_id": i}, {"x": 0.1}, {"probability": s}
            )
            for i, s in enumerate(scores)
        ],
    )
    labels = pd.DataFrame({"request_id": [f"r{i}" for i in range(200)], "label": (rng.random(200) > 0.5) * 1})
    ws.monitor.ingest_labels("churn", labels)
    [alert] = [a for a in ws.monitor.run_checks("churn").alerts if a.kind == "performance"]
    assert alert.detail["baseline"] == pytest.approx(0.93) and alert.detail["baseline_source"] == "registry"
    assert "against a baseline of 0.9300 (registry" in alert.message
