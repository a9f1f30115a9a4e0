"""TritonSupervisor without a Triton: fail fast while a fake_server restarts, retry hints, protocol choice,
and retiring a model only after the requests on it finished."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from shipyard.config import ServingSettings
from shipyard.errors import EngineUnavailable
from shipyard.gpu_runtime.triton_supervisor import DEFAULT_RETRY_AFTER_S, ModelRetired, TritonSupervisor


class FakeServer:
    """fake_server: a TritonServer stand-in whose liveness the test decides."""

    def __init__(self, alive: bool, startup_s: float | None = 2.2) -> None:
        self.alive = alive
        self.startup_s = startup_s
        self.log_path = Path("/tmp/fake-triton.log")
        self.stopped = 0

    def is_alive(self) -> bool:
        return self.alive

    def stop(self) -> None:
        self.stopped += 1
        self.alive = False


class FakeClient:
    """fake_client: records the model calls a TritonClient would send."""

    def __init__(self) -> None:
        self.closed = False
        self.calls: list[tuple[str, str]] = []

    def close(self) -> None:
        self.closed = True

    def is_model_ready(self, name: str) -> bool:
        return False

    def load_model(self, name: str) -> None:
        self.calls.append(("load", name))

    def unload_model(self, name: str) -> None:
        self.calls.append(("unload", name))


def _supervisor(tmp_path: Path) -> TritonSupervisor:
    return TritonSupervisor(ServingSettings(), tmp_path / "models", tmp_path / "triton")


def test_fake_dead_server_fails_fast_and_restarts_in_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sup = _supervisor(tmp_path)
    dead, fresh = FakeServer(alive=False), FakeServer(alive=True)
    sup._server, sup._client = dead, FakeClient()  # type: ignore[assignment]
    sup.loaded = {"churn-v1"}
    release = threading.Event()
    new_client = FakeClient()

    def slow_connect() -> Any:
        release.wait(10)
        sup._server = fresh  # type: ignore[assignment]
        return new_client

    monkeypatch.setattr(sup, "_connect", slow_connect)
    with pytest.raises(EngineUnavailable, match="stopped unexpectedly") as first:
        sup.client(fail_fast=True)
    assert first.value.detail == {"retry_after_s": 3}  # ceil of the last start time
    with pytest.raises(EngineUnavailable, match="is restarting"):
        sup.ensure_loaded("churn-v1", fail_fast=True)
    release.set()
    assert sup._restart is not None
    sup._restart.join(5)
    assert sup.client(fail_fast=True) is new_client
    assert dead.stopped == 1 and sup.loaded == set()
    sup._server = None  # nothing real to stop


def test_fake_failed_restart_is_kept_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sup = _supervisor(tmp_path)
    sup._server, sup._client = FakeServer(alive=False), FakeClient()  # type: ignore[assignment]
    attempts = []

    def failing_connect() -> Any:
        attempts.append(1)
        raise EngineUnavailable("tritonserver exited with code 1 while starting")

    monkeypatch.setattr(sup, "_connect", failing_connect)
    for _ in range(2):
        with pytest.raises(EngineUnavailable):
            sup.client(fail_fast=True)
        assert sup._restart is not None
        sup._restart.join(5)
    assert len(attempts) == 2
    assert sup.last_restart_error is not None and "exited" in sup.last_restart_error.message


@pytest.mark.parametrize(
    ("startup_s", "expected"), [(None, DEFAULT_RETRY_AFTER_S), (0.3, 1), (4.1, 5), (500.0, 60)]
)
def test_retry_after_follows_the_last_start(tmp_path: Path, startup_s: float | None, expected: int) -> None:
    sup = _supervisor(tmp_path)
    sup._server = FakeServer(alive=True, startup_s=startup_s)  # type: ignore[assignment]
    assert sup.retry_after_s() == expected


def test_external_triton_never_restarts(tmp_path: Path) -> None:
    sup = TritonSupervisor(ServingSettings(triton_url="127.0.0.1:1"), tmp_path / "m", tmp_path / "t")
    assert sup.url == "127.0.0.1:1"
    sup._fail_if_restarting()  # nothing of ours to restart: the call goes on to Triton and fails there
    assert sup._restart is None


def test_grpc_with_external_triton_needs_a_grpc_url(tmp_path: Path) -> None:
    settings = ServingSettings(triton_url="127.0.0.1:1")
    settings.protocol = "grpc"
    sup = TritonSupervisor(settings, tmp_path / "m", tmp_path / "t")
    with pytest.raises(EngineUnavailable, match="serving.triton_grpc_url"):
        sup.client()


def _serving_supervisor(tmp_path: Path) -> tuple[TritonSupervisor, FakeClient]:
    sup = _supervisor(tmp_path)
    client = FakeClient()
    sup._server, sup._client = FakeServer(alive=True), client  # type: ignore[assignment]
    return sup, client


def test_fake_retire_waits_for_requests_in_flight_then_unloads(tmp_path: Path) -> None:
    sup, client = _serving_supervisor(tmp_path)
    sup.published("churn-v1")
    entered, finish = threading.Event(), threading.Event()

    def request() -> None:
        with sup.serving("churn-v1") as got:
            assert got is client
            entered.set()
            finish.wait(10)

    worker = threading.Thread(target=request)
    worker.start()
    assert entered.wait(5)
    outcome: list[bool] = []
    retiring = threading.Thread(target=lambda: outcome.append(sup.retire("churn-v1", drain_timeout_s=10)))
    retiring.start()
    retiring.join(0.3)
    # Still draining: the request on the model has not finished, so nothing was unloaded yet.
    assert retiring.is_alive() and client.calls == []
    with pytest.raises(ModelRetired, match="churn-v1"):
        with sup.serving("churn-v1"):
            pass
    finish.set()
    worker.join(5)
    retiring.join(5)
    assert outcome == [True] and client.calls == [("unload", "churn-v1")]
    # A retired model is never loaded again behind the deploy's back, until a deploy publishes it again.
    with pytest.raises(ModelRetired):
        with sup.serving("churn-v1"):
            pass
    assert ("load", "churn-v1") not in client.calls
    sup.published("churn-v1")
    with sup.serving("churn-v1") as got:
        assert got is client


def test_fake_retire_gives_up_waiting_after_the_drain_timeout(tmp_path: Path) -> None:
    sup, client = _serving_supervisor(tmp_path)
    sup.published("churn-v2")
    lease = sup.serving("churn-v2")
    lease.__enter__()
    assert sup.retire("churn-v2", drain_timeout_s=0.05) is False
    assert client.calls == [("unload", "churn-v2")]
    lease.__exit__(None, None, None)
    assert not sup._inflight
