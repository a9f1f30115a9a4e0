"""Connecting through Ray Client retries only the known per-client-server start failure, then gives up."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.gpu_runtime import training


def _flaky(failures: list[Exception]) -> Any:
    calls: list[str] = []

    def init(**kwargs: Any) -> None:
        calls.append(kwargs["address"])
        if failures:
            raise failures.pop(0)

    return init, calls


def test_fake_ray_init_a_failed_client_server_start_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    boom = ConnectionAbortedError("Initialization failure from server: Starting Ray client server failed.")
    init, calls = _flaky([boom])
    monkeypatch.setattr(ray, "init", init)  # the cluster cannot fail on demand; the retry policy is the unit
    monkeypatch.setattr(training.time, "sleep", lambda s: None)
    training._connect_client("ray://h:10001")
    assert calls == ["ray://h:10001", "ray://h:10001"]


@pytest.mark.parametrize(
    "error",
    [
        ConnectionError("ray client connection timeout"),
        RuntimeError("version mismatch"),
        ValueError("bad address"),
    ],
)
def test_fake_ray_init_other_errors_are_not_retried(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    import ray

    init, calls = _flaky([error])
    monkeypatch.setattr(ray, "init", init)
    with pytest.raises(type(error)):
        training._connect_client("ray://h:10001")
    assert len(calls) == 1


def test_fake_ray_init_gives_up_after_the_last_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    errors: list[Exception] = [ConnectionAbortedError("Starting Ray client server failed.") for _ in range(3)]
    init, calls = _flaky(errors)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(training.time, "sleep", lambda s: None)
    with pytest.raises(ConnectionAbortedError):
        training._connect_client("ray://h:10001")
    assert len(calls) == 3
