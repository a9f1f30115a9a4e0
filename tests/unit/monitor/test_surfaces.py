"""`shipyard monitor ...` (its own Typer app) and the /api/v1/monitor router on a FastAPI app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shipyard.cli.monitor_cmd import app
from shipyard.monitor import PredictionRecord

runner = CliRunner()
T0 = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def frames(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"tenure": rng.normal(24, 6, 5_000), "plan": rng.choice(["a", "b"], 5_000)})
    cur = pd.DataFrame({"tenure": rng.normal(30, 6, 1_000), "plan": rng.choice(["a", "b"], 1_000)})
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return tmp_path / "ref.parquet", tmp_path / "cur.csv"


def test_drift_json_keeps_the_contract_and_shows_calibrated_thresholds(frames: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app, ["drift", "--reference", str(frames[0]), "--current", str(frames[1]), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["drift_detected"] is True and doc["rule"] == "calibrated"
    tenure = doc["features"]["tenure"]
    assert {"kind", "method", "statistic", "p_value", "threshold", "drifted"} <= set(tenure)
    assert tenure["drifted"] and tenure["statistic"] > tenure["threshold"]
    assert not doc["features"]["plan"]["drifted"]


def test_drift_classic_rule_is_still_available(frames: tuple[Path, Path]) -> None:
    args = [
        "drift",
        "--reference",
        str(frames[0]),
        "--current",
        str(frames[1]),
        "--rule",
        "classic",
        "--json",
    ]
    doc = json.loads(runner.invoke(app, args).stdout)
    assert set(doc) == {"drift_detected", "features"}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["drift", "--reference", "nope.parquet", "--current", "nope.csv", "--json"], 2),
        (["drift", "--reference", "x.txt", "--current", "y.csv", "--json"], 2),
        (["report", "--out", "r.html", "--json"], 2),
    ],
)
def test_bad_cli_input_exit_codes(args: list[str], code: int) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code
    assert "error" in json.loads(result.stdout)


def test_html_report_from_files(frames: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("evidently")
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["report", "--reference", str(frames[0]), "--current", str(frames[1]), "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["path"] == str(out) and doc["columns"] == ["tenure", "plan"]
    assert out.stat().st_size > 10_000 and "<html" in out.read_text()[:5_000].lower()


def test_report_refuses_a_non_html_path(frames: tuple[Path, Path], tmp_path: Path) -> None:
    args = [
        "report",
        "--reference",
        str(frames[0]),
        "--current",
        str(frames[1]),
        "--out",
        str(tmp_path / "r.pdf"),
    ]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2 and not (tmp_path / "r.pdf").exists()


def test_profile_configure_run_status(workspace_dir: Path, frames: tuple[Path, Path], tmp_path: Path) -> None:
    ws_opt = ["--workspace", str(workspace_dir)]
    result = runner.invoke(app, ["profile", "churn", "--reference", str(frames[0]), *ws_opt, "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["features"]) == {"tenure", "plan"}
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"window_rows": 100, "breach_k": 1, "breach_n": 1}))
    assert runner.invoke(app, ["configure", "churn", "--rules", str(rules), *ws_opt, "--json"]).exit_code == 0
    rules.write_text(json.dumps({"breach_k": 5, "breach_n": 2}))
    bad = runner.invoke(app, ["configure", "churn", "--rules", str(rules), *ws_opt, "--json"])
    assert bad.exit_code == 2 and "breach_k" in bad.stdout
    status = runner.invoke(app, ["status", "churn", *ws_opt, "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["open_alerts"] == []


def test_router_status_labels_latency(workspace: Any) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from shipyard.server.auth import get_workspace
    from shipyard.server.routers.monitor import router

    api = FastAPI()
    api.include_router(router, prefix="/api/v1")
    api.dependency_overrides[get_workspace] = lambda: workspace
    records = [
        PredictionRecord(
            request_id=f"q{i}",
            ts=T0 + timedelta(minutes=i),
            features={"x": 1.0},
            output={"probability": i / 10},
            latency_ms=float(i),
        )
        for i in range(10)
    ]
    workspace.monitor.log_predictions("churn", "1", records)
    client = TestClient(api)
    labels = {"labels": [{"request_id": f"q{i}", "label": i % 2} for i in range(10)]}
    assert client.post("/api/v1/monitor/deployments/churn/labels", json=labels).json()["matched"] == 10
    perf = client.get("/api/v1/monitor/deployments/churn/performance").json()
    assert perf["windows"][0]["rows"] == 10 and "auc" in perf["windows"][0]["metrics"]
    lat = client.get("/api/v1/monitor/deployments/churn/latency", params={"window": "1D"}).json()
    assert lat["windows"][0]["metrics"]["p50_ms"] == pytest.approx(4.5)
    assert client.get("/api/v1/monitor/deployments/churn/status").json()["deployment"] == "churn"
    assert client.post("/api/v1/monitor/deployments/churn/labels", json={"labels": []}).status_code == 422
