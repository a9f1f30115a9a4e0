"""The Shipyard VS Code extension in a real VS Code (code-server), driven by headless Chromium.

Sign In, Browse Features, Promote Selected Cells (preview, create, run), Ask Copilot, Deploy Model, Edit Cell
Tags, the Pipelines/Runs tree, Show Monitoring and Start Local Server are run from the command palette against
a real `shipyard server` in a churn workspace (one browser session, e2e/run.mjs; each test below checks its
steps). The monitored deployment is a deployment record with traffic logged and checked by the real monitor
service (no Triton here, as in tests/unit/monitor). code-server and Node 24
come from vscode_ext/scripts/setup-code-server.sh (cached under vscode_ext/.cache; cold ~3-10 min);
Chromium is Debian's (/usr/bin/chromium). Screenshots land in tests/browser/artifacts/vscode-*.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.node_workspace import ensure_installed

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
EXT = REPO / "vscode_ext"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "vscode"
CHROMIUM = Path("/usr/bin/chromium")
PIPELINE = "churn_vscode"
MONITORED = "churn_monitored"


@dataclass(frozen=True)
class Servers:
    api: str
    token: str
    root: Path
    code_server: str
    copilot_route: bool
    local_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, what: str, limit_s: float = 90) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer in {limit_s:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _listening_pids(port: int) -> set[int]:
    """Pids of processes with a TCP socket listening on 127.0.0.1/any ``port`` (from /proc, no tools)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            pids.add(int(proc.name))
    return pids


def _stop_listeners(port: int) -> None:
    """SIGTERM (then SIGKILL) whatever listens on ``port``; fails if it still listens."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _listening_pids(port)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        while pids and time.monotonic() < deadline and _listening_pids(port):
            time.sleep(0.2)
    assert not _listening_pids(port), f"something still listens on port {port}"


def _run(argv: list[str], cwd: Path, timeout_s: int, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(argv)} failed (rc {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def _vsix() -> Path:
    """Build dist/shipyard.vsix when it is missing or older than the sources."""
    npm = shutil.which("npm")
    assert npm, "npm is missing (Node 20 is part of the toolchain)"
    ensure_installed("playwright-core", "@vscode/vsce", "esbuild")
    vsix = EXT / "dist" / "shipyard.vsix"
    sources = [EXT / "package.json", *(EXT / "src").glob("*.ts")]
    if not vsix.exists() or vsix.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        _run([npm, "run", "package"], EXT, 300)
    return vsix


def _code_server() -> tuple[Path, Path]:
    """(code-server, Node 24 bin dir), installed once by the setup script (idempotent, cached)."""
    out = _run(["bash", str(EXT / "scripts" / "setup-code-server.sh")], EXT, 1500)
    paths = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return Path(paths["CODE_SERVER"]), Path(paths["NODE24_BIN"])


def _seed_monitored_deployment(ws: Any) -> None:
    """Deployment MONITORED with 400 logged predictions (monthly_charge shifted) checked once: drift alert."""
    from datetime import UTC, datetime, timedelta

    import numpy as np
    import pandas as pd

    from shipyard.monitor import PredictionRecord
    from shipyard.monitor.alerts import MonitorRules
    from shipyard.store.models import Deployment

    rng = np.random.default_rng(7)
    reference = ws.state_dir / "monitored-reference.parquet"
    pd.DataFrame(
        {"monthly_charge": rng.normal(60, 12, 2_000), "plan_tier": rng.choice([0, 1, 2], 2_000)}
    ).to_parquet(reference)
    with ws.store.session() as session:
        session.add(
            Deployment(
                project=ws.project,
                name=MONITORED,
                model_name="churn",
                model_version="1",
                model_uri="models:/churn/1",
                triton_model=f"{MONITORED}_1",
                feature_refs=["customer_profile:monthly_charge", "customer_profile:plan_tier"],
                entity_keys=["customer_id"],
                reference_path=str(reference),
            )
        )
    ws.monitor.configure(MONITORED, MonitorRules(window_rows=200, breach_k=1, breach_n=1))
    start = datetime.now(UTC) - timedelta(hours=3)
    charges, tiers, latencies = rng.normal(75, 12, 400), rng.choice([0, 1, 2], 400), rng.gamma(4, 2, 400)
    records = [
        PredictionRecord(
            f"r{i}",
            start + timedelta(seconds=15 * i),
            entity={"customer_id": i},
            features={"monthly_charge": float(charges[i]), "plan_tier": int(tiers[i])},
            output={"probability": 0.3},
            latency_ms=float(latencies[i]),
        )
        for i in range(400)
    ]
    ws.monitor.log_predictions(MONITORED, "1", records)
    ws.monitor.flush()
    assert ws.monitor.run_checks(MONITORED).alerts, "the seeded drift raised no alert"


def _workspace(root: Path) -> tuple[str, bool]:
    """A churn workspace with applied features, the example catalog and a monitored deployment; (token,
    has the copilot route)."""
    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    token = init_workspace(root, example="churn", customers=300).token
    with Workspace.open(root) as ws:
        ws.features.apply()
        ws.catalog.register_file(REPO / "examples" / "churn" / "catalog.jsonl")
        _seed_monitored_deployment(ws)
        has_copilot = "/api/v1/copilot/ask" in create_app(ws).openapi()["paths"]
    return token, has_copilot


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """A churn workspace, `shipyard server` and code-server with the .vsix installed, all on free ports."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    vsix = _vsix()
    code_server, node24 = _code_server()
    base = tmp_path_factory.mktemp("vscode")
    root = base / "ws"
    token, copilot = _workspace(root)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("vscode-FAILED-*.png"):
        stale.unlink()  # from an earlier run: only this run's failures should be there
    api_port, cs_port, local_port = _free_port(), _free_port(), _free_port()
    api_log, cs_log = ARTIFACTS / "vscode-shipyard-server.log", ARTIFACTS / "vscode-code-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    argv = [str(Path(sys.executable).parent / "shipyard"), "server", "--port", str(api_port), "--no-serve"]
    with api_log.open("wb") as out:
        api = subprocess.Popen(
            [*argv, "--workspace", str(root)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    user, exts = base / "user-data", base / "extensions"
    (user / "User").mkdir(parents=True)
    (user / "User" / "settings.json").write_text(
        json.dumps(
            {
                "shipyard.serverUrl": f"http://127.0.0.1:{api_port}",
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "security.workspace.trust.enabled": False,
                "extensions.ignoreRecommendations": True,
                "telemetry.telemetryLevel": "off",
                "chat.disableAIFeatures": True,
            }
        )
    )
    cs_env = {**env, "PATH": f"{node24}:{env['PATH']}"}
    dirs = ["--user-data-dir", str(user), "--extensions-dir", str(exts)]
    _run([str(code_server), *dirs, "--install-extension", str(vsix)], base, 180, cs_env)
    with cs_log.open("wb") as out:
        cs = subprocess.Popen(
            [str(code_server), "--bind-addr", f"127.0.0.1:{cs_port}", "--auth", "none", "--disable-telemetry",
             "--disable-update-check", "--disable-workspace-trust", *dirs, str(root)],
            cwd=base, env=cs_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_http(f"http://127.0.0.1:{api_port}/api/v1/health", api, api_log, "shipyard server")
        _wait_http(f"http://127.0.0.1:{cs_port}/healthz", cs, cs_log, "code-server")
        yield Servers(
            f"http://127.0.0.1:{api_port}",
            token,
            root,
            f"http://127.0.0.1:{cs_port}",
            copilot,
            f"http://127.0.0.1:{local_port}",
        )
    finally:
        # "Start Local Server" ran `shipyard server` in a code-server terminal: stop it first, by its port.
        _stop_listeners(local_port)
        _stop(cs)
        _stop(api)


def _get(servers: Servers, path: str) -> Any:
    req = urllib.request.Request(
        f"{servers.api}/api/v1{path}", headers={"Authorization": f"Bearer {servers.token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return dict(json.loads(r.read()))


@pytest.fixture(scope="module")
def e2e(servers: Servers) -> dict[str, Any]:
    """One browser session through every step of e2e/run.mjs: {timings, outcome, errors (per step)}."""
    node = shutil.which("node")
    assert node, "node is missing"
    env = {
        **os.environ,
        "CODE_SERVER_URL": servers.code_server,
        "WORKSPACE": str(servers.root),
        "SHIPYARD_URL": servers.api,
        "SHIPYARD_TOKEN": servers.token,
        "ARTIFACTS": str(ARTIFACTS),
        "PIPELINE": PIPELINE,
        "MONITORED": MONITORED,
        "LOCAL_SERVER_URL": servers.local_url,
        "SHIPYARD_EXE": str(Path(sys.executable).parent / "shipyard"),
    }
    done = subprocess.run(
        [node, str(EXT / "e2e" / "run.mjs")],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"e2e failed (rc {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # Per-step timings, outcomes and errors, kept beside the screenshots.
    (ARTIFACTS / "vscode-e2e-result.json").write_text(json.dumps(result, indent=1))
    return result


def _passed(e2e: dict[str, Any], *steps: str) -> dict[str, Any]:
    """The outcome, after checking that ``steps`` ran without error (the step's trace otherwise)."""
    failed = {s: e2e["errors"][s] for s in steps if s in e2e["errors"]}
    assert not failed, "\n".join(f"step {s}: {why}" for s, why in failed.items())
    missing = [s for s in steps if s not in e2e["timings"]]
    assert not missing, f"steps that did not run: {missing}"
    return dict(e2e["outcome"])


def test_palette_commands_in_code_server(servers: Servers, e2e: dict[str, Any]) -> None:
    """Sign in, browse features, promote + run, ask the copilot, walk Deploy Model, edit a cell's tags."""
    steps = ["sign_in", "browse_features", "promote_selected_cells", "run_pipeline", "ask_copilot"]
    outcome = _passed(e2e, *steps, "deploy_model", "edit_cell_tags")
    assert PIPELINE in _get(servers, "/pipelines")["pipelines"]
    runs = _get(servers, f"/pipelines/{PIPELINE}/runs")["runs"]
    assert runs and runs[0]["status"] == "succeeded"
    assert any("step load" in row for row in outcome["preview_rows"])
    assert outcome["deploy_name_default"] == "churn"
    # Connection state and the open folder's project (shipyard.toml) in the status bar.
    status = outcome["status_bar"].strip()
    assert re.fullmatch(r"Shipyard \d+\.\d+\.\d+\S* · churn", status), status
    # Saved in the cell's metadata.tags, where JupyterLab and the bridge read them.
    assert outcome["tags_after_edit"] == ["step:evaluate", "skip"]
    if servers.copilot_route:
        assert outcome["copilot"] == "cited answer"
    else:
        assert "not available on this server" in outcome["copilot"]


def test_copilot_inserts_load_code_into_the_notebook(servers: Servers, e2e: dict[str, Any]) -> None:
    """A citation's *insert load code* adds a `%feature get` cell to the notebook worked in last."""
    outcome = _passed(e2e, "ask_copilot", "copilot_insert_code")
    if not servers.copilot_route:
        assert outcome["inserted"] == "no citation to insert from"
        return
    cited = outcome["first_citation"].split()[-1].split(".")[0]  # "[1] feature_view customer_activity"
    inserted = outcome["inserted"]
    assert inserted.startswith(f"%feature get {cited}") and "--entity customer_id=" in inserted, inserted


def test_pipelines_tree_shows_the_run_with_its_status(servers: Servers, e2e: dict[str, Any]) -> None:
    """Show Pipeline Runs: the promoted pipeline is listed; expanded, its run shows `succeeded`."""
    outcome = _passed(e2e, "pipelines_tree")
    run_id = _get(servers, f"/pipelines/{PIPELINE}/runs")["runs"][0]["run_id"]
    rows = outcome["pipeline_rows"]
    assert any(row.strip() == PIPELINE for row in rows), rows
    assert any(run_id in row and "succeeded" in row for row in rows), rows
    assert outcome["run_details"] is True


def test_show_monitoring_webview(e2e: dict[str, Any]) -> None:
    """Show Monitoring: drift per feature (the shifted one flagged), latency percentiles, the open alert."""
    mon = _passed(e2e, "show_monitoring")["monitoring"]
    assert mon["headings"][0] == "Drift per feature — drift detected"
    drift = {row.split("\t")[0]: row.split("\t") for row in mon["drift"][1:]}
    assert drift["monthly_charge"][-1] == "DRIFTED" and drift["plan_tier"][-1] == "ok"
    assert mon["latency"][0].split("\t")[2:5] == ["p50", "p95", "p99"]
    windows = [row.split("\t") for row in mon["latency"][1:]]
    assert windows and sum(int(w[1]) for w in windows) == 400
    assert all(0 < float(w[2]) <= float(w[3]) <= float(w[4]) for w in windows)
    assert any("open\tdrift:monthly_charge" in row for row in mon["alerts"]), mon["alerts"]
    assert any("drift alert on monthly_charge" in row for row in mon["alerts"]), mon["alerts"]


def test_start_local_server(servers: Servers, e2e: dict[str, Any]) -> None:
    """Start Local Server: with nothing on the configured port it runs `shipyard server` for the folder."""
    local = _passed(e2e, "start_local_server")["local_server"]
    assert local["health"] == "ok"
    assert re.search(r"Shipyard \d", local["status_bar"]), local["status_bar"]
    port = int(servers.local_url.rsplit(":", 1)[1])
    pids = _listening_pids(port)
    assert pids, f"nothing listens on {servers.local_url} any more"
    cmdline = Path(f"/proc/{min(pids)}/cmdline").read_bytes().split(b"\0")
    assert b"server" in cmdline and str(servers.root).encode() in cmdline, cmdline
