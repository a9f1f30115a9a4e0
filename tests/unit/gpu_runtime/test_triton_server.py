"""The supervisor's contract, exercised with fake_tritonserver scripts (the real one runs in integration)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shipyard.errors import EngineUnavailable
from shipyard.gpu_runtime import processes, triton_server
from shipyard.gpu_runtime.triton_dist import TritonDistribution
from shipyard.gpu_runtime.triton_server import TritonServer, free_ports

# Answers /v2/health/ready like Triton, starts a child like a backend stub (optionally deaf to SIGTERM).
_READY_SERVER = """
import http.server, os, subprocess, sys, signal
port = int(next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--http-port=")))
if os.environ.get("FAKE_FAIL_ONCE") and not os.path.exists(os.environ["FAKE_FAIL_ONCE"]):
    open(os.environ["FAKE_FAIL_ONCE"], "w").close()
    print("E0101 Failed to start HTTP service: Address already in use", flush=True)
    sys.exit(1)
preexec = (lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN)) if os.environ.get("FAKE_DEAF") else None
subprocess.Popen(["sleep", "300"], preexec_fn=preexec)
if os.environ.get("FAKE_DEAF"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass
print("fake tritonserver ready on", port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def _fake(tmp_path: Path, body: str) -> TritonDistribution:
    script = tmp_path / "fake_tritonserver"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    backends = tmp_path / "backends"
    backends.mkdir(exist_ok=True)
    return TritonDistribution(script, backends, [])


def _server(tmp_path: Path, body: str, **kwargs: object) -> TritonServer:
    return TritonServer(tmp_path / "models", tmp_path / "work", distribution=_fake(tmp_path, body), **kwargs)  # type: ignore[arg-type]


def test_free_ports_are_distinct() -> None:
    ports = free_ports(3)
    assert len(set(ports)) == 3 and all(p > 0 for p in ports)


def test_start_waits_for_ready_and_stop_leaves_nothing(tmp_path: Path) -> None:
    server = _server(tmp_path, _READY_SERVER)
    server.start()
    try:
        assert server.is_alive()
        assert server.url.startswith("127.0.0.1:")
        assert server.startup_s is not None
        tree = server.process_tree()
        assert len(tree) == 2  # the server and its "stub"
        assert os.getpgid(tree[1]) == server.pid  # same process group as the server
        server.start()  # already running: no second process
        assert server.process_tree()[0] == tree[0]
    finally:
        server.stop()
    assert not any(processes.is_alive(p) for p in tree)
    server.stop()  # safe twice
    assert not server.is_alive()


def test_stop_kills_processes_that_ignore_sigterm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DEAF", "1")
    server = _server(tmp_path, _READY_SERVER, stop_grace_s=0.5)
    server.start()
    tree = server.process_tree()
    server.stop()
    assert not any(processes.is_alive(p) for p in tree)


def test_exit_during_startup_reports_the_log_tail(tmp_path: Path) -> None:
    body = "import sys\nprint('E1123 unable to load backend: libfoo.so missing', flush=True)\nsys.exit(3)\n"
    server = _server(tmp_path, body)
    with pytest.raises(EngineUnavailable, match="exited with code 3") as info:
        server.start()
    assert "libfoo.so missing" in info.value.message
    assert str(server.log_path) in info.value.message
    assert not server.is_alive()


def test_startup_timeout_kills_the_server(tmp_path: Path) -> None:
    body = "import time\nprint('still loading', flush=True)\ntime.sleep(300)\n"
    server = _server(tmp_path, body, startup_timeout_s=1.0)
    with pytest.raises(EngineUnavailable, match=r"not ready within serving.startup_timeout_s=1s") as info:
        server.start()
    assert "still loading" in info.value.message
    assert server.pid is None


def test_port_collision_is_retried_with_fresh_ports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAIL_ONCE", str(tmp_path / "failed-once"))
    server = _server(tmp_path, _READY_SERVER)
    try:
        server.start()
        assert server.is_alive()
        assert (tmp_path / "failed-once").exists()
    finally:
        server.stop()


def test_fixed_ports_are_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAIL_ONCE", str(tmp_path / "failed-once"))
    port = free_ports(1)[0]
    server = _server(tmp_path, _READY_SERVER, http_port=port, grpc_port=port + 1, metrics_port=port + 2)
    with pytest.raises(EngineUnavailable, match="already in use"):
        server.start()


def test_stop_all_stops_every_live_server(tmp_path: Path) -> None:
    server = _server(tmp_path, _READY_SERVER)
    server.start()
    tree = server.process_tree()
    triton_server.stop_all()
    assert not any(processes.is_alive(p) for p in tree)
    assert server.pid is None


_OWNER = """
import json, os, signal, sys, time
from pathlib import Path
from shipyard.gpu_runtime.triton_dist import TritonDistribution
from shipyard.gpu_runtime.triton_server import TritonServer
root = Path(sys.argv[1])
dist = TritonDistribution(root / "fake_tritonserver", root / "backends", [])
server = TritonServer(root / "models", root / "work", distribution=dist)
server.start()
print(json.dumps(server.process_tree()), flush=True)
if sys.argv[2] == "sigterm":
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
"""


@pytest.mark.parametrize("ending", ["sigterm", "normal exit"])
def test_owner_process_ending_stops_the_server(tmp_path: Path, ending: str) -> None:
    import json
    import subprocess

    _fake(tmp_path, _READY_SERVER)
    owner = subprocess.run(
        [sys.executable, "-c", _OWNER, str(tmp_path), ending.split()[0]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    tree = json.loads(owner.stdout.splitlines()[0])
    assert len(tree) == 2
    expected = -15 if ending == "sigterm" else 0
    assert owner.returncode == expected, owner.stderr
    assert not any(processes.is_alive(p) for p in tree)
