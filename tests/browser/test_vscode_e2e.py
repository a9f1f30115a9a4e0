"""The Shipyard VS Code extension in a real VS Code (code-server), driven by headless Chromium.

Sign In, Browse Features, Promote Selected Cells (preview, create, run), Ask Copilot and Deploy Model are
run from the command palette against a real `shipyard server` in a churn workspace. code-server and Node 24
come from vscode_ext/scripts/setup-code-server.sh (cached under vscode_ext/.cache; cold ~3-10 min);
Chromium is Debian's (/usr/bin/chromium). Screenshots land in tests/browser/artifacts/vscode-*.png.
"""

from __future__ import annotations

import json
import os
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

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
EXT = REPO / "vscode_ext"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "vscode"
CHROMIUM = Path("/usr/bin/chromium")
PIPELINE = "churn_vscode"


@dataclass(frozen=True)
class Servers:
    api: str
    token: str
    root: Path
    code_server: str
    copilot_route: bool


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
    if not (EXT / "node_modules" / "playwright-core").exists():
        _run([npm, "ci", "--no-audit", "--no-fund"], EXT, 600)
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


def _workspace(root: Path) -> tuple[str, bool]:
    """A churn workspace with applied features and the example catalog; (token, has the copilot route)."""
    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    token = init_workspace(root, example="churn", customers=300).token
    with Workspace.open(root) as ws:
        ws.features.apply()
        ws.catalog.register_file(REPO / "examples" / "churn" / "catalog.jsonl")
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
    api_port, cs_port = _free_port(), _free_port()
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
        yield Servers(f"http://127.0.0.1:{api_port}", token, root, f"http://127.0.0.1:{cs_port}", copilot)
    finally:
        _stop(cs)
        _stop(api)


def _get(servers: Servers, path: str) -> Any:
    req = urllib.request.Request(
        f"{servers.api}/api/v1{path}", headers={"Authorization": f"Bearer {servers.token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return dict(json.loads(r.read()))


def test_palette_commands_in_code_server(servers: Servers) -> None:
    """Sign in, browse features, promote + run, ask the copilot, walk Deploy Model, edit a cell's tags."""
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
    }
    done = subprocess.run(
        [node, str(EXT / "e2e" / "run.mjs")],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=720,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"e2e failed (rc {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1), file=sys.stderr)
    assert PIPELINE in _get(servers, "/pipelines")["pipelines"]
    runs = _get(servers, f"/pipelines/{PIPELINE}/runs")["runs"]
    assert runs and runs[0]["status"] == "succeeded"
    assert any("step load" in row for row in result["outcome"]["preview_rows"])
    assert result["outcome"]["deploy_name_default"] == "churn"
    # Saved in the cell's metadata.tags, where JupyterLab and the bridge read them.
    assert result["outcome"]["tags_after_edit"] == ["step:evaluate", "skip"]
    if servers.copilot_route:
        assert result["outcome"]["copilot"] == "cited answer"
    else:
        assert "not available on this server" in result["outcome"]["copilot"]
