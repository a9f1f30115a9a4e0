"""Shared fixtures: a fresh workspace in tmp_path (real SQLite store, real migrations)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Engines must never reach the network from tests; these keep MLflow/Feast/HF quiet and offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("FEAST_USAGE", "False")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's SHIPYARD_* variables must not leak into tests."""
    for key in list(os.environ):
        if key.startswith("SHIPYARD_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture()
def workspace_dir(tmp_path: Path) -> Path:
    """An initialised, empty workspace (no example data)."""
    from shipyard.workspace_init import init_workspace

    return init_workspace(tmp_path / "ws", project="test").root


@pytest.fixture()
def workspace(workspace_dir: Path) -> Iterator[object]:
    from shipyard.workspace import Workspace

    ws = Workspace.open(workspace_dir)
    yield ws
    ws.close()
