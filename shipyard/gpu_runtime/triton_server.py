"""Supervise a local ``tritonserver``: free ports on 127.0.0.1, readiness wait, clean stop of the whole tree."""

from __future__ import annotations

import atexit
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
import weakref
from pathlib import Path
from types import FrameType
from typing import IO, Any

from shipyard.errors import EngineUnavailable
from shipyard.gpu_runtime import processes
from shipyard.gpu_runtime.triton_dist import TritonDistribution, locate_triton, server_environment

HOST = "127.0.0.1"
LOG_TAIL_LINES = 25
_SHM_DIR = Path("/dev/shm")
# pytriton's sizes: the Python backend's 64 MiB default region is far more than one model needs.
_SHM_DEFAULT_BYTES = 4 * 1024 * 1024
_SHM_GROWTH_BYTES = 1024 * 1024

_live: weakref.WeakSet[TritonServer] = weakref.WeakSet()
_live_lock = threading.Lock()
_sigterm_installed = False


class TritonServer:
    """One tritonserver process (and its backend stubs) owned by this Python process."""

    def __init__(
        self,
        model_repository: Path,
        work_dir: Path,
        *,
        http_port: int = 0,
        grpc_port: int = 0,
        metrics_port: int = 0,
        startup_timeout_s: float = 90.0,
        stop_grace_s: float = 10.0,
        distribution: TritonDistribution | None = None,
    ) -> None:
        self.model_repository = model_repository
        self.work_dir = work_dir
        self.ports = {"http": http_port, "grpc": grpc_port, "metrics": metrics_port}
        self.startup_timeout_s = startup_timeout_s
        self.stop_grace_s = stop_grace_s
        self.log_path = work_dir / "tritonserver.log"
        self._distribution = distribution
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._shm_prefix = ""
        self._lock = threading.RLock()
        self.startup_s: float | None = None

    # -- state ----------------------------------------------------------------------------------------
    @property
    def distribution(self) -> TritonDistribution:
        """The Triton install this server runs (located on first use)."""
        if self._distribution is None:
            self._distribution = locate_triton(self.work_dir)
        return self._distribution

    @property
    def url(self) -> str:
        """``host:port`` of the HTTP endpoint (what tritonclient.http expects)."""
        return f"{HOST}:{self.ports['http']}"

    @property
    def grpc_url(self) -> str:
        """``host:port`` of the gRPC endpoint (what tritonclient.grpc expects)."""
        return f"{HOST}:{self.ports['grpc']}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_alive(self) -> bool:
        """Whether the server process is running."""
        return self._proc is not None and self._proc.poll() is None

    def process_tree(self) -> list[int]:
        """Pids of the server and every process it started (backend stubs)."""
        if self._proc is None:
            return []
        return [self._proc.pid, *processes.descendants(self._proc.pid)]

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start tritonserver and wait until it reports ready; no-op when already running."""
        with self._lock:
            if self.is_alive():
                return
            auto_ports = [k for k, v in self.ports.items() if v == 0]
            attempts = 3 if auto_ports else 1
            for attempt in range(attempts):
                if auto_ports:
                    for key, port in zip(auto_ports, free_ports(len(auto_ports)), strict=True):
                        self.ports[key] = port
                try:
                    self._start_once()
                    return
                except EngineUnavailable:
                    # A free port can be taken between our probe and Triton's bind; try fresh ones.
                    if attempt + 1 == attempts or "already in use" not in self.log_tail().lower():
                        raise

    def _start_once(self) -> None:
        dist = self.distribution
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.model_repository.mkdir(parents=True, exist_ok=True)
        self._shm_prefix = f"shipyard_{uuid.uuid4().hex[:12]}"
        args = [
            str(dist.binary),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={dist.backend_dir}",
            "--model-control-mode=explicit",
            f"--http-address={HOST}",
            f"--http-port={self.ports['http']}",
            f"--grpc-address={HOST}",
            f"--grpc-port={self.ports['grpc']}",
            f"--metrics-address={HOST}",
            f"--metrics-port={self.ports['metrics']}",
            "--exit-timeout-secs=5",
            "--strict-readiness=true",
            f"--backend-config=python,shm-default-byte-size={_SHM_DEFAULT_BYTES}",
            f"--backend-config=python,shm-growth-byte-size={_SHM_GROWTH_BYTES}",
            f"--backend-config=python,shm-region-prefix-name={self._shm_prefix}",
        ]
        self._log = self.log_path.open("wb")
        started = time.monotonic()
        try:
            self._proc = processes.popen_dying_with_parent(
                args,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=server_environment(dist),
                cwd=self.work_dir,
                # Own process group: stop() signals the server and its stubs together.
                start_new_session=True,
            )
        except OSError as exc:
            self._close_log()
            raise EngineUnavailable(f"could not run {dist.binary}: {exc}") from exc
        _register(self)
        self._wait_ready(started)
        self.startup_s = time.monotonic() - started

    def _wait_ready(self, started: float) -> None:
        url = f"http://{self.url}/v2/health/ready"
        deadline = started + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise EngineUnavailable(
                    f"tritonserver exited with code {code} while starting; last lines of {self.log_path}:\n"
                    + self.log_tail()
                )
            if _http_ok(url):
                return
            time.sleep(0.1)
        self.stop()
        raise EngineUnavailable(
            f"tritonserver was not ready within serving.startup_timeout_s={self.startup_timeout_s:g}s; "
            f"last lines of {self.log_path}:\n" + self.log_tail()
        )

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL what is left after the grace period; safe twice."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            tree = processes.snapshot(self.process_tree()[1:])
            if proc.poll() is None:
                processes.signal_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_grace_s)
                except subprocess.TimeoutExpired:
                    processes.signal_group(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            # Stubs that left the group or outlived the server must not linger.
            processes.kill_and_wait(tree, timeout=5)
            self._proc = None
            self._close_log()
            self._remove_shm()
            _unregister(self)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the server log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _remove_shm(self) -> None:
        # A graceful shutdown removes the regions; a killed server leaves them in /dev/shm.
        if self._shm_prefix and _SHM_DIR.is_dir():
            for region in _SHM_DIR.glob(f"{self._shm_prefix}*"):
                region.unlink(missing_ok=True)

    def __enter__(self) -> TritonServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - fixed http://127.0.0.1 URL
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop_all() -> None:
    """Stop every server this process started (atexit and SIGTERM)."""
    with _live_lock:
        servers = list(_live)
    for server in servers:
        server.stop()


def _register(server: TritonServer) -> None:
    global _sigterm_installed
    with _live_lock:
        _live.add(server)
        if not _sigterm_installed and processes.in_main_thread():
            _sigterm_installed = True
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                # Only when nobody else handles SIGTERM (CLI, demo); servers such as uvicorn close the
                # workspace on their own shutdown, and atexit covers normal exits.
                signal.signal(signal.SIGTERM, _on_sigterm)


def _unregister(server: TritonServer) -> None:
    with _live_lock:
        _live.discard(server)


def _on_sigterm(signum: int, frame: FrameType | None) -> Any:
    stop_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)


atexit.register(stop_all)
