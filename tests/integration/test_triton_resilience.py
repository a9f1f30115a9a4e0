"""Serving under failure, on a real Triton: a killed server answers 503 + Retry-After until it is back, and a
deploy killed midway leaves no half-written model version behind once deploy runs again.

Feature lookup is a fake_features stand-in (as in test_triton_serving.py) so this file tests serving alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from shipyard.gpu_runtime.deployment_history import read_pending
from shipyard.server.app import create_app
from shipyard.workspace import Workspace
from tests.churn_models import log_churn_model

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def frame(synthetic_churn_frame: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return synthetic_churn_frame(600)


@pytest.fixture(scope="module")
def ws(
    serving_workspace: Callable[[str, pd.DataFrame], Workspace], frame: pd.DataFrame
) -> Iterator[Workspace]:
    w = serving_workspace("resilience-ws", frame)
    for c in (1.0, 0.05):
        log_churn_model(w, frame, c=c)
    w.deployments.deploy("churn", "1")
    yield w
    w.close()


@pytest.fixture(scope="module")
def api(ws: Workspace) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = ws.tokens.create("resilience").secret
    with TestClient(create_app(ws, close_on_shutdown=False)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def _predict(api: tuple[TestClient, dict[str, str]], customer: int) -> Any:
    client, headers = api
    return client.post(
        "/api/v1/deployments/churn/predict", json={"entities": [{"customer_id": customer}]}, headers=headers
    )


def test_killed_triton_answers_503_with_retry_after_until_restarted(
    ws: Workspace, api: tuple[TestClient, dict[str, str]]
) -> None:
    assert _predict(api, 100_001).status_code == 200
    server = ws.deployments.triton_server
    assert server is not None and server.pid is not None
    old_pid = server.pid
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)

    t0 = time.perf_counter()
    refused = _predict(api, 100_002)
    elapsed = time.perf_counter() - t0
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    error = refused.json()["error"]
    assert error["code"] == "engine_unavailable" and "Triton" in error["message"]
    assert error["detail"]["retry_after_s"] == int(refused.headers["Retry-After"])
    assert elapsed < 2.0, f"a request during a restart must fail fast, took {elapsed:.2f}s"
    # Refused requests feed the error rate Prometheus scrapes.
    client, headers = api
    scraped = client.get("/metrics", headers=headers).text
    assert 'shipyard_prediction_errors_total{code="engine_unavailable",deployment="churn"}' in scraped

    # The supervisor brings Triton back on its own; requests succeed again without any other call.
    statuses = []
    deadline = time.monotonic() + 90
    ok = None
    while time.monotonic() < deadline:
        response = _predict(api, 100_003)
        statuses.append(response.status_code)
        if response.status_code == 200:
            ok = response
            break
        assert response.status_code == 503 and "Retry-After" in response.headers
        time.sleep(0.2)
    assert ok is not None, f"Triton did not come back: {statuses[-5:]}"
    assert ws.deployments.triton_server is not None and ws.deployments.triton_server.pid != old_pid
    logged = ws.monitor.read_predictions("churn")
    assert set(ok.json()["request_ids"]) <= set(logged["request_id"])


_KILLED_DEPLOY = textwrap.dedent(
    """
    import os, signal, sys
    from shipyard.workspace import Workspace

    root, stage, version = sys.argv[1:4]
    ws = Workspace.open(root)
    if stage == "repository_write":
        import shipyard.gpu_runtime.triton_repository as repository

        def _die(*args):  # killed after the staging copy is complete, before it is swapped in
            os.kill(os.getpid(), signal.SIGKILL)

        repository._swap_in = _die

    def _progress(name, state, seconds):
        if name == stage and state == "start":
            os.kill(os.getpid(), signal.SIGKILL)

    ws.deployments.deploy("churn", version, "churn", _progress)
    """
)


@pytest.mark.parametrize(
    ("stage", "version"),
    [("repository_write", "2"), ("smoke_inference", "1")],
    ids=["mid-write", "after-load"],
)
def test_deploy_killed_midway_is_completed_by_the_next_deploy(
    ws: Workspace, tmp_path: Path, stage: str, version: str
) -> None:
    repo = ws.path(ws.config.serving.model_repository)
    before = ws.deployments.get("churn")
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_DEPLOY, str(ws.root), stage, version],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    # The kill left work behind: the pending marker and a staging copy or an unrecorded model directory.
    pending = ws.state_dir / "deployments" / "churn" / "pending.json"
    assert read_pending(pending) == f"churn-v{version}"
    leftovers = sorted(p.name for p in repo.iterdir() if p.name != before.triton_model)
    assert leftovers, "the killed deploy should have written something"
    assert ws.deployments.get("churn").model_version == before.model_version

    dep = ws.deployments.deploy("churn", version)

    assert (dep.model_version, dep.triton_model, dep.status) == (version, f"churn-v{version}", "ready")
    assert sorted(p.name for p in repo.iterdir()) == [f"churn-v{version}"]
    assert not pending.exists()
    assert ws.deployments.predict("churn", [{"customer_id": 100_004}]).model_version == version


def _diagnostics(ws: Workspace) -> str:
    """What a failed swap leaves for the reader: machine load and the end of the Triton log."""
    server = ws.deployments.triton_server
    tail = server.log_path.read_text(errors="replace").splitlines()[-40:] if server is not None else []
    return f"load average {os.getloadavg()}; tritonserver.log tail:\n" + "\n".join(tail)


def test_rollback_under_load_fails_no_request(ws: Workspace) -> None:
    import threading

    current = ws.deployments.get("churn").model_version
    before = ws.deployments.deploy("churn", "2" if current == "1" else "1").model_version
    retired_model = ws.deployments.get("churn").triton_model
    stop = threading.Event()
    versions: list[str] = []
    failures: list[BaseException] = []

    def hammer(customer: int) -> None:
        while not stop.is_set():
            try:
                versions.append(ws.deployments.predict("churn", [{"customer_id": customer}]).model_version)
            except BaseException as exc:  # noqa: BLE001 - every failure is collected and asserted on
                failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(100_010 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        dep = ws.deployments.rollback("churn")
        time.sleep(1.5)  # past the deployment lookup's one-second cache
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == [], f"{failures[:3]}\n{_diagnostics(ws)}"
    assert dep.model_version != before
    assert versions[0] == before and versions[-1] == dep.model_version
    assert len(versions) > 20
    # No request that looked the deployment up before the swap loaded the retired model back into Triton.
    assert ws.deployments._supervisor.client().is_model_ready(dep.triton_model)
    assert not ws.deployments._supervisor.client().is_model_ready(retired_model)
    assert not (ws.path(ws.config.serving.model_repository) / retired_model).exists()


def _sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_streamed_deploy_reports_each_stage_then_the_deployment(
    ws: Workspace, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = api
    stream_headers = {**headers, "Accept": "text/event-stream"}
    missing = client.post("/api/v1/deployments", json={"model": "nope"}, headers=stream_headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    body = {"model": "churn", "ref": "1", "name": "churn-streamed"}
    response = client.post("/api/v1/deployments", json=body, headers=stream_headers)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse_events(response.text)
    stages = [data for event, data in events if event == "stage"]
    assert events[-1][0] == "deployment" and events[-1][1]["name"] == "churn-streamed"
    started = [s["stage"] for s in stages if s["state"] == "start"]
    finished = [s["stage"] for s in stages if s["state"] == "done"]
    assert started == finished and started[0] == "resolve" and len(started) >= 5
    assert all(s["seconds"] is None for s in stages if s["state"] == "start")
    assert all(s["seconds"] >= 0 for s in stages if s["state"] == "done")
    assert set(started) <= set(events[-1][1]["stage_seconds"])
    assert ws.deployments.get("churn-streamed").model_version == "1"
    assert ws.deployments.predict("churn-streamed", [{"customer_id": 100_001}]).predictions


_DEPLOY = textwrap.dedent(
    """
    import sys
    from shipyard.workspace import Workspace

    ws = Workspace.open(sys.argv[1])
    ws.deployments.deploy("churn", sys.argv[2])
    ws.close()
    """
)


def test_a_version_this_process_retired_serves_again_once_another_process_redeploys_it(ws: Workspace) -> None:
    current = ws.deployments.get("churn").model_version
    other = "2" if current == "1" else "1"
    ws.deployments.deploy("churn", other)  # this process retires churn-v{current}
    assert ws.deployments.predict("churn", [{"customer_id": 100_020}]).model_version == other
    proc = subprocess.run(
        [sys.executable, "-c", _DEPLOY, str(ws.root), current], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    time.sleep(1.1)  # past the deployment lookup's one-second cache
    assert ws.deployments.predict("churn", [{"customer_id": 100_021}]).model_version == current
