"""The monitoring loop: profile at deploy, windows, sustained-breach alerts, webhook, retraining, status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from shipyard.monitor import PredictionRecord
from shipyard.monitor.alerts import MonitorRules, sustained
from shipyard.store.models import Deployment

T0 = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("history", "k", "n", "expected"),
    [
        ([["a"], ["a"], ["a"]], 3, 5, {"a"}),
        ([["a"], [], ["a"]], 3, 5, set()),
        ([["a"], ["a"], [], [], [], ["a"]], 2, 3, set()),  # old windows fall out of the last n
        ([["a", "b"], ["b"], ["a", "b"]], 2, 3, {"a", "b"}),
        ([], 1, 1, set()),
    ],
)
def test_sustained_is_k_of_the_last_n(history: list[list[str]], k: int, n: int, expected: set[str]) -> None:
    assert sustained(history, k, n) == expected


@pytest.mark.parametrize(
    "bad",
    [
        {"breach_k": 4, "breach_n": 3},
        {"window_rows": 10},
        {"breach_k": 0},
        {"latency_p95_ms": -1},
        {"webhooks": [{"url": ""}]},
        {"promote_gates": ["auc>>0.7"]},
        {"promote_gates": ["accuracy_pct>=0.7"]},
        {"promote_gates": ["auc>=nan"]},
        {"promote_alias": "latest"},
        {"promote_alias": "has space"},
    ],
)
def test_bad_rules_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(bad))):
        MonitorRules(**bad)


@dataclass
class FakeRun:
    run_id: str
    status: str


class fake_pipelines:  # noqa: N801 (a stand-in for ws.pipelines, named as the test rules ask)
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def run(self, name: str, params: dict[str, Any] | None = None, *, force: bool = False) -> FakeRun:
        assert force, "a retrain must not reuse cached steps"
        self.calls.append((name, dict(params or {})))
        return FakeRun("run-1", "succeeded")


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", got
    server.shutdown()
    server.server_close()


def reference(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenure": rng.normal(24, 6, n),
            "spend": rng.gamma(2, 30, n),
            "plan": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        }
    )


def deploy(ws: Any) -> None:
    rng = np.random.default_rng(0)
    path = ws.state_dir / "ref.parquet"
    reference(rng, 5_000).to_parquet(path)
    with ws.store.session() as session:
        session.add(
            Deployment(
                project=ws.project,
                name="churn",
                model_name="churn",
                model_version="1",
                model_uri="models:/churn/1",
                triton_model="churn_1",
                feature_refs=["customer:tenure", "customer:spend", "customer:plan"],
                entity_keys=["customer_id"],
                reference_path=str(path),
            )
        )
    ws.monitor.capture_reference_profile("churn", path)


def send_traffic(ws: Any, n: int, start: datetime, shift: float, seed: int, slow: bool = False) -> None:
    frame = reference(np.random.default_rng(seed), n)
    frame["tenure"] += shift
    records = [
        PredictionRecord(
            request_id=f"r{seed}-{i}",
            ts=start + timedelta(seconds=i),
            entity={"customer_id": i},
            features=row,
            output={"probability": 0.3},
            latency_ms=50.0 if slow else 2.0,
        )
        for i, row in enumerate(frame.to_dict("records"))
    ]
    ws.monitor.log_predictions("churn", "1", records)
    ws.monitor.flush()


def test_shift_raises_one_sustained_alert_naming_the_feature(
    workspace: Any, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    ws = workspace
    deploy(ws)
    url, got = hook
    ws.__dict__["pipelines"] = fake_pipelines()  # the bridge's own tests run real pipelines
    ws.monitor.configure(
        "churn",
        MonitorRules(
            window_rows=500,
            breach_k=2,
            breach_n=3,
            retrain_pipeline="churn_training",
            retrain_params={"reason": "drift"},
            webhooks=[{"url": url, "allow_private": True, "backoff_s": 0.01}],
        ),
    )
    send_traffic(ws, 1_500, T0, 0.0, seed=1)
    first = ws.monitor.run_checks("churn")
    assert len(first.windows) == 3 and not first.alerts and not got

    send_traffic(ws, 1_500 + 200, T0 + timedelta(hours=1), 4.0, seed=2)
    second = ws.monitor.run_checks("churn")
    assert len(second.windows) == 3 and second.pending_rows == 200
    assert [(a.kind, a.subject) for a in second.alerts] == [("drift", "tenure")]
    assert "tenure" in got[0]["text"] and got[0]["shipyard"]["payload"]["subject"] == "tenure"
    assert ws.pipelines.calls == [("churn_training", {"reason": "drift"})]
    assert second.retrain is not None and second.retrain["run_id"] == "run-1"

    third = ws.monitor.run_checks("churn")  # nothing new: no windows, no repeated alert
    assert not third.windows and not third.alerts

    status = ws.monitor.status("churn")
    assert status["open_alerts"] == ["drift:tenure"]
    kinds = [e["kind"] for e in status["events"]]
    assert kinds.count("monitor.alert") == 1 and "monitor.retrain" in kinds
    assert status["retrains"][0]["pipeline"] == "churn_training"


def test_latency_slo_alert(workspace: Any) -> None:
    ws = workspace
    deploy(ws)
    ws.monitor.configure("churn", MonitorRules(window_rows=300, breach_k=2, breach_n=2, latency_p95_ms=20))
    send_traffic(ws, 600, T0, 0.0, seed=3, slow=True)
    result = ws.monitor.run_checks("churn")
    assert [(a.kind, a.subject) for a in result.alerts] == [("latency", "p95")]


def test_failed_retrain_is_recorded_not_raised(workspace: Any) -> None:
    ws = workspace
    deploy(ws)
    ws.monitor.configure(
        "churn", MonitorRules(window_rows=500, breach_k=1, breach_n=1, retrain_pipeline="nope")
    )
    send_traffic(ws, 500, T0, 5.0, seed=4)
    result = ws.monitor.run_checks("churn")
    assert result.retrain is not None and result.retrain["status"] == "failed" and result.retrain["error"]


def test_profile_is_stored_as_json_under_the_workspace(workspace: Any) -> None:
    deploy(workspace)
    data = json.loads(workspace.monitor.profile_path("churn").read_text())
    assert set(data["features"]) == {"tenure", "spend", "plan"}
    tenure = data["features"]["tenure"]
    assert tenure["kind"] == "numeric" and len(tenure["edges"]) == 19 and sum(tenure["counts"]) == 5_000
    assert data["features"]["plan"]["levels"] == ["a", "b", "c"]


def test_corrupt_rules_file_is_a_clear_error(workspace: Any) -> None:
    from shipyard.errors import InvalidInput

    path = workspace.monitor.monitor_dir("churn") / "rules.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(InvalidInput, match="rules.json"):
        workspace.monitor.rules("churn")


def test_html_report_of_a_deployment_window(workspace: Any) -> None:
    pytest.importorskip("evidently")
    deploy(workspace)
    send_traffic(workspace, 600, T0, 4.0, seed=5)
    out = workspace.root / "report.html"
    result = workspace.monitor.report(out, "churn")
    assert result.rows_current == 600 and result.columns == ["tenure", "spend", "plan"]
    assert result.evidently_drifted_share > 0 and out.exists()


def test_profile_of_another_reference_file_is_recaptured(workspace: Any) -> None:
    deploy(workspace)
    other = workspace.state_dir / "old.parquet"
    reference(np.random.default_rng(9), 300).to_parquet(other)
    workspace.monitor.capture_reference_profile("churn", other)  # e.g. left over from an earlier version
    profile, _ = workspace.monitor.deployment_profile("churn")
    assert profile.features["tenure"].n == 5_000 and profile.source.endswith("ref.parquet")


class fake_pipelines_registering:  # noqa: N801 (a stand-in for ws.pipelines that registers a real model)
    def __init__(self, ws: Any, alias: str | None) -> None:
        self.ws, self.alias = ws, alias

    def run(self, name: str, params: dict[str, Any] | None = None, *, force: bool = False) -> FakeRun:
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(5)
        frame = pd.DataFrame({"tenure": rng.normal(24, 6, 400), "spend": rng.gamma(2, 30, 400)})
        frame["y"] = (frame["tenure"] + rng.normal(0, 3, 400) > 24).astype(int)
        model = LogisticRegression().fit(frame[["tenure", "spend"]], frame["y"])
        self.ws.run_context["run_id"] = "run-7"  # what a pipeline step's workspace carries
        self.ws.registry.log_model(
            model,
            name="churn",
            training_frame=frame,
            feature_columns=["tenure", "spend"],
            target="y",
            feature_refs=["customer:tenure", "customer:spend"],
            metrics={},
            params={},
            alias=self.alias,
        )
        return FakeRun("run-7", "succeeded")


@pytest.mark.parametrize(
    ("alias", "gates", "promoted", "summary"),
    [
        (None, ["auc>=0.6"], True, "candidate v1 promoted to 'champion' [auc>=0.6: "),
        # A refused candidate: tests/integration/test_monitor_loop.py (a real pipeline run).
        ("champion", ["auc>=0.6"], None, "candidate v1 took 'champion' without the gates"),
    ],
)
def test_fake_retrain_candidate_goes_through_the_promotion_gate(
    workspace: Any, alias: str | None, gates: list[str], promoted: bool | None, summary: str
) -> None:
    ws = workspace
    deploy(ws)
    ws.__dict__["pipelines"] = fake_pipelines_registering(ws, alias)
    ws.monitor.configure(
        "churn",
        MonitorRules(
            window_rows=500, breach_k=1, breach_n=1, retrain_pipeline="retrain", promote_gates=gates
        ),
    )
    send_traffic(ws, 500, T0, 5.0, seed=4)
    result = ws.monitor.run_checks("churn")
    assert result.retrain is not None
    candidate = result.retrain["candidate"]
    assert (candidate["version"], candidate["promoted"]) == ("1", promoted)
    assert candidate["summary"].startswith(summary), candidate["summary"]
    holder = ws.registry.alias_version("churn", "champion")
    assert holder == ("1" if promoted is not False else None)
    titles = [e["title"] for e in ws.monitor.status("churn")["events"]]
    assert any(t.startswith("churn: retraining succeeded; " + summary) for t in titles), titles
