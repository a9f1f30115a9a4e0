"""`shipyard pipeline serve` starts Dagster's real webserver on the generated definitions.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.integration

SHIPYARD = str(Path(sys.executable).parent / "shipyard")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_with_the_pipelines_assets(workspace_dir: Path) -> None:
    nb = new_notebook(
        cells=[
            new_code_cell("n = 3", metadata={"tags": ["parameters"]}),
            new_code_cell("xs = list(range(n))", metadata={"tags": ["step:make"]}),
            new_code_cell("total = sum(xs)", metadata={"tags": ["step:total"]}),
        ]
    )
    path = workspace_dir / "tiny.ipynb"
    nbformat.write(nb, path)
    subprocess.run(
        [SHIPYARD, "pipeline", "promote", str(path), "--name", "tiny", "-w", str(workspace_dir)],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [SHIPYARD, "pipeline", "serve", "tiny", "--port", str(port), "-w", str(workspace_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        info = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2)
                if r.status_code == 200:
                    info = r.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert info is not None, (
            f"webserver did not answer: {proc.stderr.read().decode()[-2000:] if proc.poll() is not None else 'timeout'}"
        )
        assert "dagster_webserver_version" in info
        query = {"query": "{ assetNodes { assetKey { path } } }"}
        nodes = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query, timeout=30).json()["data"][
            "assetNodes"
        ]
        assert sorted(n["assetKey"]["path"][-1] for n in nodes) == ["make", "total"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
