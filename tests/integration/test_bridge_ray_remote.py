"""Pipeline steps on a separate Ray cluster reached by ``ray://`` (Ray Client), not the in-process local Ray.

The cluster is a real `ray start --head --block` in its own process group on 127.0.0.1 with a Ray Client
server port and Ray's token authentication (the default for clusters since Ray 2.59); the workspace only knows
the ``ray://`` address from its config and the token from the environment, as on a real cluster.
"""

from __future__ import annotations

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
                os.killpg(proc.pid, signal.SIGKILL)
        assert_ray_gone(temp)


def test_pipeline_steps_run_on_a_ray_cluster_by_address(
    tmp_path: Path, cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.workspace_init import init_workspace

    root = init_workspace(tmp_path / "ws", project="remote").root
    monkeypatch.setenv("SHIPYARD_RAY__ADDRESS", cluster)  # configuration only, as for a real cluster
    for key, value in AUTH.items():
        monkeypatch.setenv(key, value)
    ws = Workspace.open(root)
    try:
        cells = [
            ("import os\nn = 21\nmaker = os.getpid()", ["step:make"]),
            ("import os\ntotal = n * 2\nworker = os.getpid()", ["step:double", "limit:cpu:1"]),
            ("total\nmaker\nworker", ["metrics"]),
        ]
        nb = v4.new_notebook(cells=[v4.new_code_cell(s, metadata={"tags": t}) for s, t in cells])
        nbformat.write(nb, str(root / "remote.ipynb"))
        ws.pipelines.promote(root / "remote.ipynb", "remote")
        run = ws.pipelines.run("remote", ray=True)
        assert run.status == "succeeded", [s.error for s in run.steps]
        assert run.metrics["total"] == 42
        assert ws.training.ray_address == cluster
        # The cluster ran the steps: the driver (this process) connected as a Ray Client, not a local Ray.
        import ray

        assert ray.util.client.ray.is_connected()
    finally:
        ws.close()
