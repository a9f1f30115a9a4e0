"""Reading the prediction log: rows of a deployment's indexed Parquet partitions, by time or by index id.

Readers go through the index (``PredictionLogPartition``), never a directory listing, so a file written
but not yet indexed (a crash between the two) is never read. Partition ids grow in index-commit order;
``passes.py`` keeps a cursor over them so a monitoring pass reads each partition once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select

from shipyard.errors import OperationFailed
from shipyard.monitor.records import BASE_COLUMNS, utc
from shipyard.store.db import MetadataStore
from shipyard.store.models import PredictionLogPartition


def read_prediction_log(
    store: MetadataStore, log_dir: Path, deployment: str, since: datetime | None = None
) -> pd.DataFrame:
    """Rows logged for ``deployment`` (at or after ``since``), oldest first, from the indexed files."""
    query = select(PredictionLogPartition).where(PredictionLogPartition.deployment == deployment)
    if since is not None:
        since = utc(since)
        query = query.where(PredictionLogPartition.last_ts >= since)
    with store.session() as session:
        parts = list(
            session.scalars(query.order_by(PredictionLogPartition.first_ts, PredictionLogPartition.id))
        )
    frame = _read_parts(log_dir, deployment, parts)
    if since is not None:
        frame = frame[frame["ts"] >= pd.Timestamp(since)]
    return frame.sort_values("ts", kind="stable").reset_index(drop=True)


def read_partitions_after(
    store: MetadataStore, log_dir: Path, deployment: str, after_id: int, skip: Sequence[int] = ()
) -> tuple[pd.DataFrame, list[int]]:
    """Rows of ``deployment``'s partitions indexed after ``after_id`` (minus ``skip``), oldest first, and their ids."""
    with store.session() as session:
        parts = list(session.scalars(_after(deployment, after_id, skip).order_by(PredictionLogPartition.id)))
    frame = _read_parts(log_dir, deployment, parts)
    return frame.sort_values("ts", kind="stable").reset_index(drop=True), [p.id for p in parts]


def count_partitions_after(
    store: MetadataStore, deployment: str, after_id: int, skip: Sequence[int] = ()
) -> int:
    """How many of ``deployment``'s partitions were indexed after ``after_id`` (minus ``skip``)."""
    query = _after(deployment, after_id, skip).with_only_columns(func.count())
    with store.session() as session:
        return int(session.scalar(query) or 0)


def latest_partition(store: MetadataStore, deployment: str) -> int:
    """The id of ``deployment``'s newest indexed partition (0 when nothing was logged)."""
    query = select(func.max(PredictionLogPartition.id)).where(PredictionLogPartition.deployment == deployment)
    with store.session() as session:
        return int(session.scalar(query) or 0)


def _after(deployment: str, after_id: int, skip: Sequence[int]) -> Any:
    query = select(PredictionLogPartition).where(
        PredictionLogPartition.deployment == deployment, PredictionLogPartition.id > after_id
    )
    return query.where(PredictionLogPartition.id.not_in(list(skip))) if skip else query


def _read_parts(log_dir: Path, deployment: str, parts: list[PredictionLogPartition]) -> pd.DataFrame:
    frames = []
    for part in parts:
        path = log_dir / part.path
        try:
            frames.append(pq.read_table(path).to_pandas())
        except (OSError, pa.ArrowInvalid) as exc:
            raise OperationFailed(
                f"prediction log file {path} (indexed for {deployment!r}) cannot be read: {exc}"
            ) from exc
    if not frames:
        return empty_log()
    return frames[0] if len(frames) == 1 else concat_logs(frames)


def empty_log() -> pd.DataFrame:
    """A prediction-log frame with no rows (the base columns only)."""
    return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES[c]) for c in BASE_COLUMNS})


def concat_logs(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Prediction-log frames stacked; a column all-null in one of them does not decide the dtype."""
    # A column that is all-null in one file (a feature missing for that batch) must not decide the dtype.
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    kept = [f.dropna(axis=1, how="all") for f in frames]
    return pd.concat(kept, ignore_index=True).reindex(columns=columns)


_EMPTY_DTYPES = {
    "request_id": "object",
    "ts": "datetime64[us, UTC]",
    "model_version": "object",
    "latency_ms": "float64",
}
