"""The closed loop for real: shifted traffic -> sustained-breach alert -> webhook on 127.0.0.1 -> a real
retraining pipeline run (papermill + Dagster in-process) that registers a candidate in MLflow -> the
registry's promotion gate decides -> all of it recorded as events, visible in status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat import v4

from shipyard.monitor import PredictionRecord
from shipyard.monitor.alerts import MonitorRules
from shipyard.store.models import Deployment

pytestmark = pytest.mark.integration
T0 = datetime(2024, 6, 1, tzinfo=UTC)
# A weak model on purpose (labels are mostly noise): the gate below must refuse it.
RETRAIN = """import numpy as np, pandas as pd, shipyard
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(3)
df = pd.DataFrame({"tenure": rng.normal(27, 6, 800), "spend": rng.gamma(2, 30, 800)})
df["y"] = (rng.random(800) < 0.3).astype(int)
model = LogisticRegression().fit(df[["tenure", "spend"]], df["y"])
shipyard.open_workspace().registry.log_model(
    model, name="churn", training_frame=df, feature_columns=["tenure", "spend"], target="y",
    feature_refs=["c:tenure", "c:spend"], metrics={}, params={"reason": reason}, alias=None,
)"""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack", got
    server.shutdown()
    server.server_close()


def frame(seed: int, n: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.normal(24 + shift, 6, n), "spend": rng.gamma(2, 30, n)})


def traffic(ws: Any, seed: int, n: int, start: datetime, shift: float) -> None:
    rows = frame(seed, n, shift).to_dict("records")
    ws.monitor.log_predictions(
        "churn",
        "1",
        [
            PredictionRecord(
                request_id=f"{seed}-{i}",
                ts=start + timedelta(seconds=i),
                features=row,
                output={"probability": 0.5},
                latency_ms=1.0,
            )
            for i, row in enumerate(rows)
        ],
    )


def test_shift_alerts_webhook_and_real_retraining_run(
    workspace: Any, receiver: tuple[str, list[Any]]
) -> None:
    ws = workspace
    url, got = receiver
    notebook = ws.root / "notebooks" / "retrain.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(
        v4.new_notebook(
            cells=[
                v4.new_code_cell("reason = ''", metadata={"tags": ["parameters"]}),
                v4.new_code_cell(RETRAIN, metadata={"tags": ["step:train"]}),
            ]
        ),
        str(notebook),
    )
    ws.pipelines.promote(notebook, "retrain")

    reference = ws.state_dir / "ref.parquet"
    frame(0, 5_000).to_parquet(reference)
    with ws.store.session() as session:
        session.add(
            Deployment(
                project=ws.project,
                name="churn",
                model_name="churn",
                model_version="1",
                model_uri="models:/churn/1",
                triton_model="churn_1",
                feature_refs=["c:tenure", "c:spend"],
                entity_keys=[],
                reference_path=str(reference),
            )
        )
    ws.monitor.capture_reference_profile("churn", reference)
    ws.monitor.configure(
        "churn",
        MonitorRules(
            window_rows=400,
            breach_k=2,
            breach_n=3,
            retrain_pipeline="retrain",
            retrain_params={"reason": "drift"},
            promote_gates=["auc>=0.9"],
            webhooks=[{"url": url, "allow_private": True, "secret": "k"}],
        ),
    )

    traffic(ws, 1, 1_200, T0, 0.0)
    assert not ws.monitor.run_checks("churn").alerts

    traffic(ws, 2, 1_200, T0 + timedelta(hours=1), 3.0)
    result = ws.monitor.run_checks("churn")
    assert [(a.kind, a.subject) for a in result.alerts] == [("drift", "tenure")]
    assert result.retrain is not None and result.retrain["status"] == "succeeded", result.retrain
    titles = [g["text"] for g in got]
    assert any("drift alert on tenure" in t for t in titles)
    candidate = result.retrain["candidate"]
    assert candidate["version"] == "1" and candidate["promoted"] is False
    assert candidate["gates"][0]["metric"] == "auc" and not candidate["gates"][0]["passed"]
    assert "gate auc>=0.9 failed" in candidate["reasons"][0]
    assert ws.registry.alias_version("churn", "champion") is None  # the refused candidate took no alias
    version = ws.registry.resolve("churn", "1")
    assert version.tags["shipyard.pipeline_run"] == result.retrain["run_id"]
    assert any("retraining succeeded; candidate v1 refused" in t for t in titles)
    status = ws.monitor.status("churn")
    assert status["retrains"][0]["run_id"] == result.retrain["run_id"]
    assert status["retrains"][0]["candidate"]["promoted"] is False
    assert all(e["delivered"] for e in status["events"])
