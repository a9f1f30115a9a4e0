"""A real JupyterLab with Shipyard on 127.0.0.1, in a small churn workspace, for the browser tests.

Chromium is Debian's (/usr/bin/chromium, installed by `make sysdeps`); playwright-core comes from
labextension/node_modules (installed by `make setup`). Nothing is downloaded here.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.notebooks import tagged_notebook

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT = REPO / "labextension" / "node_modules" / "playwright-core"
XSS = '<img src=x onerror="window.__shipyardXss=1"><script>window.__shipyardXss=2</script>'


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path
    copilot_route: bool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tiny_notebook() -> dict[str, object]:
    return tagged_notebook(
        [
            ("make", "x = 21", ["step:make"]),
            ("double", "y = x * 2\nassert y == 42", ["step:double", "after:make"]),
            ("extra", "z = 0", ["step:extra"]),
        ]
    )


def _make_workspace(root: Path) -> None:
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    init_workspace(root, example="churn", customers=300)
    (root / "notebooks" / "tiny.ipynb").write_text(json.dumps(_tiny_notebook(), indent=1))
    probe = root / "xss.jsonl"
    probe.write_text(
        json.dumps(
            {
                "kind": "feature_view",
                "name": "xss_probe",
                "title": XSS,
                "description": f"probe {XSS}",
                "owner": XSS,
                "tags": ["probe"],
            }
        )
        + "\n"
    )
    with Workspace.open(root) as ws:
        ws.features.apply()
        ws.catalog.register_file(REPO / "examples" / "churn" / "catalog.jsonl")
        ws.catalog.register_file(probe)


def _has_copilot_route(root: Path) -> bool:
    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace

    with Workspace.open(root) as ws:
        # FastAPI 0.16x mounts included routers lazily: app.routes does not list them, the OpenAPI does.
        return "/api/v1/copilot/ask" in create_app(ws).openapi()["paths"]


def _wait_until_up(url: str, token: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}shipyard/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not answer in 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """`jupyter lab` (as `shipyard lab` starts it) on a free port, stopped with its whole process group."""
    from shipyard.cli.lab_cmd import lab_argv

    for need, what in (
        (CHROMIUM, "Debian's chromium (make sysdeps)"),
        (PLAYWRIGHT, "node deps (make setup)"),
    ):
        if not need.exists():
            pytest.fail(f"{need} is missing: install {what}")
    base = tmp_path_factory.mktemp("lab")
    root = base / "ws"
    _make_workspace(root)
    ARTIFACTS.mkdir(exist_ok=True)
    # No "get notified about Jupyter news?" toast over the panels in screenshots.
    news = base / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "SHIPYARD_WORKSPACE": str(root),
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    extra = [f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False", "--LabApp.news_url=None"]
    argv = lab_argv(str(root), port, False, "127.0.0.1", extra)
    log = ARTIFACTS / "jupyter-lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, token, proc, log)
        yield Lab(url, token, root, _has_copilot_route(root))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture()
def drive(lab: Lab) -> Callable[[str], list[dict[str, object]]]:
    """``drive("promote")`` runs one scenario of lab_e2e.mjs against the session's JupyterLab."""
    return lambda scenario: run_scenario(lab, scenario)


def run_scenario(lab: Lab, scenario: str, timeout_s: int = 240) -> list[dict[str, object]]:
    """Drive Chromium through one scenario of lab_e2e.mjs; return its step records (fails with its output)."""
    node = shutil.which("node")
    assert node, "node is missing (Node 20 is part of the toolchain)"
    env = {
        **os.environ,
        "LAB_URL": lab.url,
        "LAB_TOKEN": lab.token,
        "ARTIFACTS": str(ARTIFACTS),
        "CHROMIUM": str(CHROMIUM),
        "EXPECT_COPILOT": "citation" if lab.copilot_route else "unavailable",
    }
    script = Path(__file__).with_name("lab_e2e.mjs")
    done = subprocess.run(
        [node, str(script), scenario], env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        pytest.fail(
            f"{scenario} failed (rc {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    print(done.stdout, file=sys.stderr)
    return steps


# --- deploy dialog and tag chips (added for the deploy/chips scenarios; the fixtures above are unchanged) ---

DEPLOY_MODEL = "churn_e2e"
_DEPLOY_FEATURES = {
    "monthly_charge": "customer_profile:monthly_charge",
    "txn_count_30d": "customer_activity:txn_count_30d",
    "refunds_30d": "customer_activity:refunds_30d",
}


@pytest.fixture(scope="session")
def registered_model(lab: Lab) -> str:
    """A small logistic regression on the churn features, registered in the lab's workspace as @champion."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from shipyard.workspace import Workspace

    rng = np.random.default_rng(0)
    rows = 400
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100_000, 100_000 + rows),
            "event_timestamp": pd.Timestamp("2024-06-01", tz="UTC"),
            "monthly_charge": rng.uniform(20, 70, rows),
            "txn_count_30d": rng.poisson(5, rows),
            "refunds_30d": rng.poisson(0.3, rows),
        }
    )
    frame["churned"] = (0.3 * frame["txn_count_30d"] - 0.04 * frame["monthly_charge"] < 0).astype(int)
    features = list(_DEPLOY_FEATURES)
    model = LogisticRegression(max_iter=500).fit(frame[features], frame["churned"])
    # Let the lab's server open (and on first use create) the MLflow store before this process writes to
    # it: two processes creating one fresh mlflow.db at once can see each other's half-migrated schema.
    with urllib.request.urlopen(f"{lab.url}shipyard/api/v1/models?token={lab.token}", timeout=120) as r:
        assert r.status == 200
    # The lab's server reads the same MLflow store, so the model shows up in its registry at once.
    with Workspace.open(lab.root) as ws:
        ws.registry.log_model(
            model,
            name=DEPLOY_MODEL,
            training_frame=frame,
            feature_columns=features,
            target="churned",
            feature_refs=list(_DEPLOY_FEATURES.values()),
            metrics={"auc": 0.9},
            params={},
        )
    return DEPLOY_MODEL


def tritons_under(root: Path) -> list[int]:
    """Pids of tritonserver processes serving a model repository under ``root``."""
    import psutil

    found = []
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if "tritonserver" in cmd and str(root) in cmd:
            found.append(p.pid)
    return found


@pytest.fixture(scope="session")
def triton_reaper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the session's end, no Triton started by the lab's deploys outlives the tests."""
    yield
    import psutil

    # The deploy ran in a worker thread of the lab's server, so Triton got no parent-death signal.
    for pid in tritons_under(tmp_path_factory.getbasetemp()):
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
