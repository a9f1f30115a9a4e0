"""Helpers shared by the real-engine tests, offered as fixtures so test modules never import each other."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.config import default_toml
from shipyard.workspace import Workspace


def _synthetic_churn_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "customer_id": np.arange(100_000, 100_000 + rows),
            "event_timestamp": pd.Timestamp("2024-06-01", tz="UTC"),
            "monthly_charge": rng.uniform(20, 70, rows),
            "txn_count_30d": rng.poisson(5, rows),
            "refunds_30d": rng.poisson(0.3, rows),
        }
    )
    logit = -0.04 * df["monthly_charge"] + 0.3 * df["txn_count_30d"] - 1.0 * df["refunds_30d"]
    df["churned"] = (logit + rng.logistic(size=rows) < 0).astype(int)
    return df


@pytest.fixture(scope="session")
def synthetic_churn_frame() -> Callable[..., pd.DataFrame]:
    """A factory of small churn-like training frames with real signal (3 features, label ``churned``)."""
    return _synthetic_churn_frame


def _ray_processes(ray_dir: Path) -> list[str]:
    import psutil

    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if str(ray_dir) in cmd:
            found.append(cmd[:120])
    return found


def _assert_ray_gone(ray_dir: Path, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _ray_processes(ray_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _ray_processes(ray_dir), "raylet/workers left behind after close()"


@pytest.fixture(scope="session")
def ray_processes() -> Callable[[Path], list[str]]:
    """Command lines of the Ray processes running under ``ray_dir``."""
    return _ray_processes


@pytest.fixture(scope="session")
def assert_ray_gone() -> Callable[..., None]:
    """Wait (bounded) until no Ray process runs under ``ray_dir``, then assert so."""
    return _assert_ray_gone


class FakeFeatures:
    """fake_features: answers online_features from a frame, like the Feast online store would."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    def online_features(self, entity_rows: list[dict[str, Any]], feature_refs: list[str]) -> pd.DataFrame:
        names = [r.partition(":")[2] for r in feature_refs]
        return pd.DataFrame(entity_rows).merge(
            self.table[["customer_id", *names]], on="customer_id", how="left"
        )


@pytest.fixture(scope="session")
def serving_workspace(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str, pd.DataFrame], Workspace]]:
    """A factory of churn workspaces for serving tests, with online features faked from ``frame``.

    Serving tests exercise Triton alone; the end-to-end demo test drives predict through the real Feast store.
    Callers close their workspace; any still open at the end of the session is closed here.
    """
    opened: list[Workspace] = []

    def make(prefix: str, frame: pd.DataFrame) -> Workspace:
        root = tmp_path_factory.mktemp(prefix)
        (root / "shipyard.toml").write_text(default_toml("churn"))
        ws = Workspace.open(root)
        ws.__dict__["features"] = FakeFeatures(frame)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()
