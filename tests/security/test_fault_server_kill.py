"""kill -9 of the real `shipyard server` mid-deploy (Triton) and mid-materialize (Feast SQLite), then restart:
the store, the deployments, the online store and the audit chain are consistent, and nothing is half-applied.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from shipyard.errors import NotFound
from shipyard.governance.service import governance_for
from shipyard.gpu_runtime import processes
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace
from tests.churn_models import FEATURES, log_churn_model

pytestmark = pytest.mark.integration

ROWS = [{"monthly_charge": 70.0, "txn_count_30d": 3.0, "refunds_30d": 1.0}]


def _frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({name: rng.normal(size=rows) for name in FEATURES})
    frame["customer_id"] = np.arange(rows)
    frame["churned"] = (frame["monthly_charge"] + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    return frame


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _in_background(call: Callable[[], Any]) -> threading.Thread:
    def swallow() -> None:
        try:
            call()
        except httpx.HTTPError:
            pass  # the server was killed under this request: the connection drops

    thread = threading.Thread(target=swallow, daemon=True)
    thread.start()
    return thread


def _audit_ok(root: Path, action: str) -> None:
    with Workspace.open(root) as ws:
        assert ws.store.read_only is None
        audit = governance_for(ws).audit
        report = audit.verify()
        assert report.ok, report
        assert action in {e.action for e in audit.entries()}  # audited before the work began


def test_kill_9_mid_deploy_leaves_no_half_written_deployment(
    tmp_path: Path, shipyard_server: Callable[..., Any]
) -> None:
    result = init_workspace(tmp_path / "ws", project="own")
    root, headers = result.root, {"Authorization": f"Bearer {result.token}"}
    with Workspace.open(root) as ws:
        frame = _frame()
        for c in (1.0, 0.05):
            log_churn_model(ws, frame, c=c)
        repo = ws.path(ws.config.serving.model_repository)
        pending = ws.state_dir / "deployments" / "churn" / "pending.json"

    def deploy_killed(server: Any, version: str) -> None:
        body = {"model": "churn", "ref": version, "name": "churn"}
        thread = _in_background(
            lambda: httpx.post(f"{server.url}/api/v1/deployments", json=body, headers=headers, timeout=600)
        )
        _wait_for(pending.exists, "the deploy to reach its Triton stages")
        server.kill_9()
        server.reap()
        thread.join(timeout=30)
        # The Triton the killed server started (on a request thread) goes with it, not orphaned.
        _wait_for(lambda: not _tritons_of(root), "the killed server's Triton to exit", timeout=30)

    # 1. The first deploy dies midway: after restart there is no deployment, not a half-written one.
    deploy_killed(shipyard_server(root), "1")
    _audit_ok(root, "deployments.deploy")
    with Workspace.open(root) as ws:
        with pytest.raises(NotFound):
            ws.deployments.get("churn")
        assert ws.deployments.list() == []

    # 2. Restarted, the same deploy completes, and the leftovers of the killed one are gone (a killed deploy
    # of a later version is completed the same way: tests/integration/test_triton_resilience.py).
    server = shipyard_server(root, serve=True)
    done = httpx.post(
        f"{server.url}/api/v1/deployments",
        json={"model": "churn", "ref": "1", "name": "churn"},
        headers=headers,
        timeout=600,
    )
    assert done.status_code == 201 and done.json()["status"] == "ready", done.text
    assert sorted(p.name for p in repo.iterdir()) == ["churn-v1"] and not pending.exists()

    # 3. A deploy of v2 dies midway while v1 is live: after restart v1 is still the deployment and serves.
    deploy_killed(server, "2")
    server = shipyard_server(root, serve=True)
    answer = httpx.post(
        f"{server.url}/api/v1/deployments/churn/predict", json={"rows": ROWS}, headers=headers, timeout=120
    )
    assert answer.status_code == 200 and answer.json()["model_version"] == "1", answer.text
    _audit_ok(root, "deployments.deploy")


def _tritons_of(root: Path) -> list[int]:
    """Live tritonserver processes serving a model repository under ``root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"tritonserver") and any(str(root).encode() in a for a in argv):
            if processes.is_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def _online(root: Path) -> dict[str, tuple[datetime | None, list[dict[str, Any]]]]:
    """view -> (recorded materialization end, online values of every customer)."""
    with Workspace.open(root) as ws:
        customers = pd.read_parquet(root / "data" / "customer_profile.parquet")["customer_id"].unique()
        entities = [{"customer_id": int(c)} for c in sorted(customers)]
        out = {}
        for view in ws.features.store.list_feature_views():
            refs = [f"{view.name}:{f.name}" for f in view.features]
            out[view.name] = (view.most_recent_end_time, ws.features.online_records(entities, refs))
        return out


@pytest.mark.parametrize("kill_on", ["loaded"])
def test_kill_9_mid_materialize_leaves_each_view_fully_loaded_or_not(
    tmp_path: Path, shipyard_server: Callable[..., Any], kill_on: str
) -> None:
    result = init_workspace(tmp_path / "ws", project="own", example="churn", customers=300)
    root, headers = result.root, {"Authorization": f"Bearer {result.token}"}
    with Workspace.open(root) as ws:
        ws.features.apply()
    twin = tmp_path / "twin"
    shutil.copytree(root, twin)
    end = datetime.now(UTC).isoformat()
    with Workspace.open(twin) as ws:
        ws.features.materialize(None, datetime.fromisoformat(end))
    expected = _online(twin)

    server = shipyard_server(root)
    events: list[str] = []
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/features/materialize",
        json={"end": end, "stream": True},
        headers=headers,
        timeout=600,
    ) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line[7:])
                if events[-1] == "progress" and (kill_on == "checked" or len(events) >= 2):
                    server.kill_9()
                    break
    server.reap()
    assert "done" not in events, events

    # After the crash: every view whose load was recorded holds exactly the clean run's values.
    _audit_ok(root, "features.materialize")
    for name, (recorded, rows) in _online(root).items():
        if recorded is not None:
            assert rows == expected[name][1], f"{name} is recorded as loaded but differs"

    # Restarted, materializing again completes the run: the online store equals the uninterrupted twin's.
    server = shipyard_server(root)
    again = httpx.post(
        f"{server.url}/api/v1/features/materialize", json={"end": end}, headers=headers, timeout=600
    )
    assert again.status_code == 200, again.text
    after = _online(root)
    assert {name: rows for name, (_, rows) in after.items()} == {n: r for n, (_, r) in expected.items()}
    assert all(recorded is not None for recorded, _ in after.values())
