"""GET /metrics: Prometheus series scraped after real log_predictions calls and a real monitoring pass."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from shipyard.monitor.alerts import MonitorRules
from shipyard.server.auth import require_token
from shipyard.server.errors import install_error_handlers
from shipyard.server.routers import metrics as metrics_router
from tests.unit.monitor.test_alerts import deploy, send_traffic

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _client(ws: Any) -> TestClient:
    # Mounted the way app.py mounts it: at the root path, behind the bearer token.
    api = FastAPI()
    api.state.workspace = ws
    install_error_handlers(api)
    api.include_router(metrics_router.router, dependencies=[Depends(require_token)])
    return TestClient(api)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_scrape_counts_predictions_latency_drift_and_alerts(workspace: Any) -> None:
    ws = workspace
    deploy(ws)
    ws.monitor.configure("churn", MonitorRules(window_rows=500, breach_k=1, breach_n=1))
    send_traffic(ws, 1_000, T0, 0.0, seed=1)  # 2 ms each
    send_traffic(ws, 500, T0.replace(hour=1), 4.0, seed=2, slow=True)  # 50 ms each, tenure shifted
    result = ws.monitor.run_checks("churn")

    token = ws.tokens.create("prometheus").secret
    response = _client(ws).get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = _samples(response.text)
    dep = ("deployment", "churn")
    assert got[("shipyard_predictions_total", (dep, ("model_version", "1")))] == 1_500
    assert got[("shipyard_prediction_latency_seconds_count", (dep,))] == 1_500
    assert got[("shipyard_prediction_latency_seconds_sum", (dep,))] == pytest.approx(
        1_000 * 0.002 + 500 * 0.05
    )
    assert got[("shipyard_prediction_latency_seconds_bucket", (dep, ("le", "0.0025")))] == 1_000
    assert got[("shipyard_monitor_windows_total", (dep,))] == 3
    assert got[("shipyard_drift_breached_features", (dep,))] == 1
    assert got[("shipyard_drift_feature_breached", (dep, ("feature", "tenure")))] == 1
    assert got[("shipyard_drift_feature_breached", (dep, ("feature", "plan")))] == 0
    # The counter counts the pass's alerts (the shifted tenure window's among them; with k=1 of n=1 a null
    # window may add its own, at the calibrated false-alarm rate).
    drift_alerts = [a.subject for a in result.alerts if a.kind == "drift"]
    assert "tenure" in drift_alerts
    assert got[("shipyard_alerts_total", (dep, ("kind", "drift")))] == len(drift_alerts)


def test_rejected_records_are_not_counted(workspace: Any) -> None:
    from shipyard.errors import InvalidInput

    with pytest.raises(InvalidInput):
        workspace.monitor.log_predictions("churn", "1", ["not a record"])
    text = workspace.monitor.metrics.exposition()[0].decode()
    assert "shipyard_predictions_total{" not in text


def test_two_workspaces_do_not_share_series(workspace: Any, tmp_path: Any) -> None:
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    other = Workspace.open(init_workspace(tmp_path / "other", project="other").root)
    try:
        deploy(workspace)
        send_traffic(workspace, 50, T0, 0.0, seed=3)
        assert b'deployment="churn"' in workspace.monitor.metrics.exposition()[0]
        assert b'deployment="churn"' not in other.monitor.metrics.exposition()[0]
    finally:
        other.close()


@pytest.mark.parametrize("header", [None, "Bearer sy_wrong", "Basic abc"])
def test_scrape_without_a_valid_token_is_refused(workspace: Any, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = _client(workspace).get("/metrics", headers=headers)
    assert response.status_code == 401
    assert "token" in response.text


def test_series_stay_per_workspace_in_prometheus_multiprocess_mode(tmp_path: Any) -> None:
    # Importing Feast sets PROMETHEUS_MULTIPROC_DIR, which makes prometheus_client metric objects share
    # values by name across the process; a fresh interpreter reproduces that before prometheus_client loads.
    import os
    import subprocess
    import sys

    code = """
from shipyard.monitor.metrics import MonitorMetrics
from shipyard.monitor.records import PredictionRecord
from datetime import datetime, UTC
a, b = MonitorMetrics(), MonitorMetrics()
a.record_predictions("churn", "1", [PredictionRecord("r1", datetime.now(UTC), latency_ms=3.0)] * 5)
b.record_predictions("churn", "1", [PredictionRecord("r2", datetime.now(UTC), latency_ms=3.0)] * 2)
print(a.exposition()[0].decode())
"""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert 'shipyard_predictions_total{deployment="churn",model_version="1"} 5.0' in out.stdout


def test_failed_predictions_are_counted_per_error_code(workspace: Any) -> None:
    workspace.monitor.record_failure("churn", "not_found")
    workspace.monitor.record_failure("churn", "not_found")
    workspace.monitor.record_failure("churn", "engine_unavailable")
    got = _samples(workspace.monitor.metrics.exposition()[0].decode())
    dep = ("deployment", "churn")
    assert got[("shipyard_prediction_errors_total", (("code", "not_found"), dep))] == 2
    assert got[("shipyard_prediction_errors_total", (("code", "engine_unavailable"), dep))] == 1
