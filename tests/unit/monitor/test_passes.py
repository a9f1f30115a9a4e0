"""Incremental monitoring passes: each logged row is checked exactly once, late partitions included."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.monitor import PredictionRecord
from shipyard.monitor.alerts import MonitorRules
from shipyard.monitor.prediction_log import PredictionLogWriter

T0 = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def ws(workspace: Any, add_deployment: Callable[..., None]) -> Any:
    reference = workspace.state_dir / "ref.parquet"
    rng = np.random.default_rng(0)
    pd.DataFrame({"tenure": rng.normal(24, 6, 2_000)}).to_parquet(reference)
    add_deployment(workspace, ["c:tenure"], [], str(reference))
    workspace.monitor.configure("churn", MonitorRules(window_rows=100, breach_k=1, breach_n=1))
    return workspace


def records(tag: str, n: int, start: datetime) -> list[PredictionRecord]:
    rng = np.random.default_rng(len(tag) + n)
    return [
        PredictionRecord(f"{tag}-{i}", start + timedelta(seconds=i), features={"tenure": float(v)})
        for i, v in enumerate(rng.normal(24, 6, n))
    ]


def checked_rows(results: list[Any]) -> int:
    return sum(w["rows"] for r in results for w in r.windows)


def test_a_partition_flushed_late_with_older_rows_is_still_checked(ws: Any) -> None:
    ws.monitor.log_predictions("churn", "1", records("a", 500, T0 + timedelta(minutes=10)))
    first = ws.monitor.run_checks("churn")
    # Another server process flushes rows stamped before everything checked so far.
    other = PredictionLogWriter(ws.monitor.log_dir, ws.store)
    other.log("churn", "1", records("b", 150, T0))
    other.close()
    second = ws.monitor.run_checks("churn")
    third = ws.monitor.run_checks("churn")
    assert (len(first.windows), len(second.windows), second.pending_rows) == (5, 1, 50)
    assert not third.windows and third.pending_rows == 50
    assert ws.monitor.unread_partitions("churn") == 0


def test_the_incomplete_tail_is_carried_once_and_its_file_replaced(ws: Any) -> None:
    ws.monitor.log_predictions("churn", "1", records("a", 130, T0))
    assert ws.monitor.run_checks("churn").pending_rows == 30
    ws.monitor.log_predictions("churn", "1", records("b", 90, T0 + timedelta(hours=1)))
    result = ws.monitor.run_checks("churn")
    assert (len(result.windows), result.pending_rows) == (1, 20)
    assert result.windows[0]["start"] == (T0 + timedelta(seconds=100)).isoformat()
    assert len(list(ws.monitor.monitor_dir("churn").glob("pending-*.parquet"))) == 1


def test_concurrent_passes_never_check_a_row_twice(ws: Any) -> None:
    ws.monitor.log_predictions("churn", "1", records("a", 1_000, T0))
    ws.monitor.flush()
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(ws.monitor.run_checks("churn"))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert checked_rows(results) == 1_000 and len(results) == 3


def test_a_state_from_before_partition_cursors_resumes_after_its_last_timestamp(ws: Any) -> None:
    ws.monitor.log_predictions("churn", "1", records("a", 300, T0))
    ws.monitor.flush()
    state = ws.monitor.monitor_dir("churn") / "state.json"
    last = T0 + timedelta(seconds=199)
    state.write_text(json.dumps({"last_ts": last.isoformat(), "last_request_ids": ["a-199"]}))
    result = ws.monitor.run_checks("churn")
    assert [w["start"] for w in result.windows] == [(last + timedelta(seconds=1)).isoformat()]


def test_a_pass_of_an_unknown_deployment_writes_no_state(ws: Any) -> None:
    from shipyard.errors import NotFound

    with pytest.raises(NotFound, match="no deployment named 'nope'"):
        ws.monitor.run_checks("nope")
    assert not ws.monitor.monitor_dir("nope").exists()
