"""One monitoring pass of a deployment, incremental over the prediction-log partitions indexed since the last.

The pass state (``.shipyard/monitor/DEPLOYMENT/state.json``) keeps a partition cursor: the highest index id
read, plus the ids read just below it (``LOOKBACK``), because on PostgreSQL an index row with a lower id can
commit after a higher one. A pass reads only partitions past that cursor, prepends the rows of the
incomplete last window (kept in ``pending-<cursor>-<random>.parquet``), checks the full windows and keeps the new
tail. So every logged row is checked exactly once, whichever process wrote it and however late it was
flushed. The tail file is written before the state that names it and the old one removed after, so a
crash in between leaves an unused file, never a row counted twice.

Passes of one deployment are serialised by a file lock: the cron command, the REST route and a Dagster
schedule or sensor may overlap safely.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from shipyard.errors import Conflict
from shipyard.monitor.alerts import CheckResult, MonitorState, load_json_model, run_checks, save_json
from shipyard.monitor.log_reader import (
    concat_logs,
    count_partitions_after,
    read_partitions_after,
)

if TYPE_CHECKING:
    from shipyard.monitor.service import MonitorService
    from shipyard.workspace import Workspace

LOOKBACK = 64  # partition ids below the cursor still re-checked for late commits
LOCK_TIMEOUT_S = 300.0


def run_pass(ws: Workspace, service: MonitorService, deployment: str) -> CheckResult:
    """Check the windows completed by partitions logged since the last pass; alert, deliver, save state."""
    from filelock import FileLock, Timeout

    from shipyard.monitor.actions import act_on_alerts

    folder = service.monitor_dir(deployment)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / "pass.lock"))
    try:
        lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout as exc:
        raise Conflict(
            f"another monitoring pass of {deployment!r} has held {folder / 'pass.lock'} for "
            f"{LOCK_TIMEOUT_S:.0f} s; wait for it or remove a stale lock file"
        ) from exc
    try:
        rules = service.rules(deployment)
        state_path = folder / "state.json"
        state: MonitorState = load_json_model(state_path, MonitorState, "monitor state")
        service.flush()  # read-your-writes for what this process logged
        new, read_ids = read_partitions_after(
            ws.store, service.log_dir, deployment, _floor(state), state.recent_partitions
        )
        logged = _with_tail(folder, state, _not_checked_before(new, state))
        result = run_checks(service, deployment, rules, state, logged)
        act_on_alerts(ws, result, rules, state)
        old_tail = state.pending_file
        _advance(state, read_ids)
        tail = logged.iloc[len(logged) - result.pending_rows :]
        state.pending_file = _save_tail(folder, tail, state.partition_cursor)
        state.checked_at = datetime.now(UTC)
        save_json(state_path, state)
        if old_tail and old_tail != state.pending_file:
            (folder / old_tail).unlink(missing_ok=True)
    finally:
        lock.release()
    service.metrics.record_checks(result)
    return result


def unread_partitions(ws: Workspace, service: MonitorService, deployment: str) -> int:
    """Partitions of ``deployment`` indexed since its last pass (what the next pass would read)."""
    state: MonitorState = load_json_model(
        service.monitor_dir(deployment) / "state.json", MonitorState, "monitor state"
    )
    return count_partitions_after(ws.store, deployment, _floor(state), state.recent_partitions)


def unread_labels(service: MonitorService, deployment: str) -> int:
    """Label batches of ``deployment`` ingested since its last pass."""
    folder = service.monitor_dir(deployment)
    state: MonitorState = load_json_model(folder / "state.json", MonitorState, "monitor state")
    since = state.checked_at.timestamp() if state.checked_at else 0.0
    labels = folder / "labels"
    return (
        sum(1 for f in labels.glob("labels-*.parquet") if f.stat().st_mtime > since) if labels.exists() else 0
    )


def _floor(state: MonitorState) -> int:
    return max(state.partition_cursor - LOOKBACK, 0)


def _advance(state: MonitorState, read_ids: list[int]) -> None:
    cursor = max([state.partition_cursor, *read_ids])
    state.partition_cursor = cursor
    state.recent_partitions = sorted(
        i for i in {*state.recent_partitions, *read_ids} if i > cursor - LOOKBACK
    )


def _not_checked_before(new: pd.DataFrame, state: MonitorState) -> pd.DataFrame:
    # A state written before partition cursors existed knows only the last checked timestamp.
    if state.partition_cursor or state.last_ts is None or new.empty:
        return new
    since = pd.Timestamp(state.last_ts)
    since = since.tz_localize("UTC") if since.tzinfo is None else since
    keep = (new["ts"] >= since) & ~new["request_id"].isin(set(state.last_request_ids))
    return new[keep].reset_index(drop=True)


def _with_tail(folder: Path, state: MonitorState, new: pd.DataFrame) -> pd.DataFrame:
    if not state.pending_file or not (folder / state.pending_file).exists():
        return new
    tail = pd.read_parquet(folder / state.pending_file)
    if new.empty:
        return tail
    return concat_logs([tail, new]).sort_values("ts", kind="stable").reset_index(drop=True)


def _save_tail(folder: Path, tail: pd.DataFrame, cursor: int) -> str:
    if tail.empty:
        return ""
    name = f"pending-{cursor}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = folder / f".{name}.tmp"
    tail.to_parquet(tmp, index=False)
    tmp.replace(folder / name)
    return name
