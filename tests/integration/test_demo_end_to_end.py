"""`shipyard demo` end to end on real engines (Feast, papermill + Dagster, MLflow, Triton), reduced size,
then each stage again through the CLI and REST against the workspace the demo left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SHIPYARD = str(Path(sys.executable).parent / "shipyard")


def _processes_mentioning(text: str, also: str = "") -> list[str]:
    """Processes (not pytest) whose command line has ``text`` (and ``also``, when given)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and also in cmdline and "pytest" not in cmdline:
            out.append(f"{pid}: {cmdline[:200]}")
    return out


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([SHIPYARD, *args], capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"shipyard {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    ws = tmp_path_factory.mktemp("demo") / "ws"
    proc = _cli(
        "demo", "--workspace", str(ws), "--customers", "3000", "--requests", "10", "--batch", "60", "--json"
    )
    yield ws, json.loads(proc.stdout)


def test_demo_runs_every_stage_and_finds_drift_only_on_the_shifted_feature(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    ws, doc = demo
    names = [s["name"] for s in doc["steps"]]
    assert any(n.startswith("features") for n in names)
    assert any(n.startswith("pipeline") for n in names)
    assert any(n.startswith("deploy") for n in names)
    summary = doc["summary"]
    assert summary["normal_drifted_features"] == []
    assert summary["shifted_drifted_features"] == [summary["shifted_feature"]]
    assert Path(summary["dagster_definitions"]).is_file()
    for nb in summary["pipeline_run"]["output_notebooks"]:
        assert Path(nb).is_file()
    for report in summary["drift_reports"]:
        assert set(json.loads(Path(report).read_text())) >= {"drift_detected", "features"}


def test_demo_closes_the_loop_alert_webhook_retrain_gate(demo: tuple[Path, dict[str, Any]]) -> None:
    ws, doc = demo
    shifted = doc["summary"]["shifted_feature"]
    loop = doc["summary"]["monitor_loop"]
    step = next(s for s in doc["steps"] if s["name"].startswith("loop:"))
    assert f"alert: drift on {shifted}" in step["detail"]
    assert [(a["kind"], a["subject"]) for a in loop["alerts"]] == [("drift", shifted)]
    # The receiver the demo started on 127.0.0.1 got the alert and the retraining outcome.
    assert loop["webhook_url"].startswith("http://127.0.0.1:")
    texts = [r["text"] for r in loop["webhook_received"]]
    assert any(f"churn: drift alert on {shifted}" in t for t in texts), texts
    retrain = loop["retrain"]
    assert retrain["status"] == "succeeded" and retrain["run_id"], retrain
    assert any("retraining succeeded; candidate v2" in t for t in texts), texts
    candidate = retrain["candidate"]
    assert candidate["version"] == "2" and candidate["champion_version"] == "1"
    assert [g["metric"] for g in candidate["gates"]] == ["auc"]
    assert isinstance(candidate["promoted"], bool)
    # The registry agrees with the gate's decision, and the candidate came from that retraining run.
    info = json.loads(_cli("models", "show", "churn@2", "--workspace", str(ws), "--json").stdout)
    assert info["tags"]["shipyard.pipeline_run"] == retrain["run_id"]
    assert ("champion" in info["aliases"]) is candidate["promoted"]
    status = json.loads(_cli("monitor", "status", "churn", "--workspace", str(ws), "--json").stdout)
    assert status["retrains"][-1]["run_id"] == retrain["run_id"]
    assert all(e["delivered"] for e in status["events"])


def test_demo_discovers_the_refund_history_with_a_cited_answer(demo: tuple[Path, dict[str, Any]]) -> None:
    ws, doc = demo
    answer = doc["summary"]["copilot"]["answer"]
    assert set(answer) >= {"answer", "citations", "timings_ms"}
    top = answer["citations"][0]
    # The documented table with the refund flag column (or that column), from examples/churn/catalog.jsonl.
    assert top["kind"] in ("table", "column") and top["name"].startswith("sales.transactions_clean")
    assert doc["summary"]["lab"] == f"shipyard lab --workspace {ws}"


def test_demo_leaves_no_process_behind(demo: tuple[Path, dict[str, Any]]) -> None:
    ws, _ = demo
    assert _processes_mentioning(str(ws)) == []
    assert _processes_mentioning("tritonserver", str(ws)) == []


def test_champion_carries_lineage_tags(demo: tuple[Path, dict[str, Any]]) -> None:
    ws, _ = demo
    info = json.loads(_cli("models", "show", "churn@champion", "--workspace", str(ws), "--json").stdout)
    tags = info["tags"]
    for key in ("shipyard.notebook_sha256", "shipyard.training_frame_sha256", "shipyard.config_sha256"):
        assert len(tags[key]) == 64, key
    assert tags["shipyard.pipeline_run"]
    assert len(info["artifact_sha256"]) == 64


def test_cli_predict_starts_and_stops_triton(demo: tuple[Path, dict[str, Any]]) -> None:
    ws, _ = demo
    import pandas as pd

    cid = int(pd.read_parquet(ws / "data" / "customers.parquet")["customer_id"].iloc[0])
    doc = json.loads(
        _cli("predict", "churn", "-e", f"customer_id={cid}", "--workspace", str(ws), "--json").stdout
    )
    assert doc["deployment"] == "churn"
    p = doc["predictions"][0]
    assert 0.0 <= p["probability"] <= 1.0
    assert _processes_mentioning("tritonserver", str(ws)) == []


def test_cli_drift_contract_on_files(demo: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    ws, doc = demo
    from shipyard.workspace import Workspace

    with Workspace.open(ws) as w:
        champion = w.registry.resolve("churn", "champion")
        reference = w.registry.load_reference(champion)[champion.feature_columns]
        current = w.monitor.read_predictions("churn")[champion.feature_columns]
    reference.to_parquet(tmp_path / "ref.parquet")
    current.to_csv(tmp_path / "cur.csv", index=False)
    proc = _cli(
        "monitor",
        "drift",
        "--reference",
        str(tmp_path / "ref.parquet"),
        "--current",
        str(tmp_path / "cur.csv"),
        "--json",
    )
    report = json.loads(proc.stdout)
    assert report["drift_detected"] is True  # the logged traffic includes the shifted phase
    for col, f in report["features"].items():
        assert set(f) >= {"kind", "method", "statistic", "p_value", "threshold", "drifted"}, col
    assert report["features"][doc["summary"]["shifted_feature"]]["drifted"] is True


def test_rest_predict_and_unknown_deployment(demo: tuple[Path, dict[str, Any]]) -> None:
    ws, _ = demo
    from fastapi.testclient import TestClient

    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace

    w = Workspace.open(ws)
    token = w.tokens.create("test").secret
    headers = {"Authorization": f"Bearer {token}"}
    import pandas as pd

    ids = pd.read_parquet(ws / "data" / "customers.parquet")["customer_id"].head(5).tolist()
    with TestClient(create_app(w, serve_deployments=True)) as client:
        r = client.post(
            "/api/v1/deployments/churn/predict",
            json={"entities": [{"customer_id": int(i)} for i in ids]},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["predictions"]) == 5
        assert body["model_version"]
        r = client.post(
            "/api/v1/deployments/nope/predict", json={"entities": [{"customer_id": 1}]}, headers=headers
        )
        assert r.status_code == 404
        assert "nope" in r.json()["error"]["message"]
        assert client.get("/api/v1/deployments", headers=headers).json()[0]["name"] == "churn"
    assert _processes_mentioning("tritonserver", str(ws)) == []


def test_promote_of_a_notebook_that_is_not_json_exits_2_and_writes_nothing(
    demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    ws, _ = demo
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ this is not json")
    before = sorted(p.name for p in (ws / "pipelines").iterdir())
    proc = _cli("pipeline", "promote", str(bad), "--name", "broken", "--workspace", str(ws), check=False)
    assert proc.returncode == 2
    assert "broken.ipynb" in proc.stderr
    assert sorted(p.name for p in (ws / "pipelines").iterdir()) == before
