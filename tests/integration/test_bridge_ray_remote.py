"""Pipeline steps on a separate Ray cluster reached by ``ray://`` (Ray Client), not the in-process local Ray.

The cluster is a real `ray start --head --block` in its own process group on 127.0.0.1 with a Ray Client
server port and Ray's token authentication (the default for clusters since Ray 2.59); the workspace only knows
the ``ray://`` address from its config and the token from the environment, as on a real cluster.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TOKEN = secrets.token_hex(32)
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def cluster(assert_ray_gone: Callable[..., None]) -> Iterator[str]:
    temp = Path(tempfile.mkdtemp(prefix="shipyard-rc-"))
    log = temp / "ray-start.log"
    gcs, client = _free_port(), _free_port()
    ray = str(Path(sys.executable).with_name("ray"))
    proc = subprocess.Popen(
        [
            ray,
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={gcs}",
            f"--ray-client-server-port={client}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **AUTH},
    )
    try:
        deadline = time.monotonic() + 120
        while True:  # the client server is the last thing the head starts
            try:
                socket.create_connection(("127.0.0.1", client), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, f"ray start --head exited: {log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, "Ray head did not open its client port in 120 s"
                time.sleep(0.5)
        yield f"ray://127.0.0.1:{client}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # --block: ray start stops every process it started
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        try:  # agents Ray leaves after a slow drain are still in the group (retitled ray::..., so kill by group)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _kill_client_servers(gcs)
        assert_ray_gone(temp)


def _kill_client_servers(gcs_port: int) -> None:
    """Ray Client's per-client servers of this cluster (they hold port 23000+ for the next cluster otherwise)."""
    import psutil

    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if "ray.util.client.server" in cmd and f":{gcs_port}" in cmd:
            try:
                p.kill()
            except psutil.Error:
                continue


def test_pipeline_steps_run_on_a_ray_cluster_by_address(tmp_path: Path, cluster: str) -> None:
    from shipyard.workspace_init import init_workspace

    root = init_workspace(tmp_path / "ws", project="remote").root
    cells = [
        ("import os\nn = 21\nmaker = os.getpid()", ["step:make"]),
        ("import os\ntotal = n * 2\nworker = os.getpid()", ["step:double", "limit:cpu:1"]),
        ("total\nmaker\nworker", ["metrics"]),
    ]
    nb = v4.new_notebook(cells=[v4.new_code_cell(s, metadata={"tags": t}) for s, t in cells])
    nbformat.write(nb, str(root / "remote.ipynb"))
    with Workspace.open(root) as ws:
        ws.pipelines.promote(root / "remote.ipynb", "remote")
    # The driver is a fresh `shipyard` process, as for a user: Ray caches its auth token per process, so a
    # test process that already ran a local Ray must not be the Ray Client here.
    env = {**os.environ, "SHIPYARD_RAY__ADDRESS": cluster, **AUTH}  # configuration only, as on a real cluster
    shipyard = str(Path(sys.executable).with_name("shipyard"))
    done = subprocess.run(
        [shipyard, "pipeline", "run", "remote", "--ray", "--json", "--workspace", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads(done.stdout)
    assert run["status"] == "succeeded" and [s["status"] for s in run["steps"]] == ["succeeded"] * 2
    assert run["metrics"]["total"] == 42
