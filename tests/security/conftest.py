"""Fixtures for the hostile suite: a workspace with users of every role in its project and an outsider."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shipyard.governance.service import Governance, governance_for
from shipyard.server.app import create_app
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace

ROLES = ("viewer", "scientist", "maintainer", "admin")


@dataclass
class GovEnv:
    """A served workspace (project ``own``), tokens per role, and one of an admin of project ``other``."""

    ws: Workspace
    gov: Governance
    init_token: str
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        """Authorization header for ``who`` (a role, ``outsider`` or ``init``)."""
        secret = self.init_token if who == "init" else self.tokens[who]
        return {"Authorization": f"Bearer {secret}"}


def make_env(root: Path) -> GovEnv:
    """Initialise a workspace and its users; used by the fixtures and the benchmarks' tests."""
    result = init_workspace(root, project="own")
    ws = Workspace.open(result.root)
    gov = governance_for(ws)
    env = GovEnv(ws, gov, result.token)
    for role in ROLES:
        gov.access.add_user(role)
        gov.access.bind(role, "own", role)
        env.tokens[role] = ws.tokens.create(f"{role}-token", user=role).secret
    gov.access.add_user("outsider")
    gov.access.bind("outsider", "other", "admin")
    env.tokens["outsider"] = ws.tokens.create("outsider-token", user="outsider").secret
    return env


@pytest.fixture()
def gov_env(tmp_path: Path) -> Iterator[GovEnv]:
    env = make_env(tmp_path / "ws")
    yield env
    env.ws.close()


@pytest.fixture()
def client(gov_env: GovEnv) -> Iterator[TestClient]:
    with TestClient(create_app(gov_env.ws, close_on_shutdown=False)) as c:
        yield c


@dataclass
class ServerProcess:
    """A real `shipyard server` subprocess (its own session, so Triton under it can be cleaned up)."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill_9(self) -> None:
        """SIGKILL the server process itself (as a crash would), then wait for it."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def reap(self) -> None:
        """Kill whatever the dead server left running in its session (an orphaned Triton)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def shipyard_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``shipyard server -w ROOT [--serve/--no-serve]`` and wait until /api/v1/health answers."""
    import httpx

    started: list[ServerProcess] = []
    cli = Path(sys.executable).with_name("shipyard")

    def start(root: Path, serve: bool = False) -> ServerProcess:
        port = _free_port()
        log = tmp_path / f"server-{len(started)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    str(cli),
                    "server",
                    "--port",
                    str(port),
                    "--serve" if serve else "--no-serve",
                    "-w",
                    str(root),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = ServerProcess(proc, f"http://127.0.0.1:{port}", log)
        started.append(server)
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"shipyard server did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.proc.wait(timeout=60)
        server.reap()
