"""MonitorService: the prediction log and drift checks of a workspace, behind one object."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from shipyard.errors import EngineUnavailable, InvalidInput, NotFound
from shipyard.monitor.drift import DriftReport, compute_drift
from shipyard.monitor.prediction_log import PredictionLogWriter, WriterStats, read_prediction_log
from shipyard.monitor.records import PredictionRecord, check_deployment_name

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

FRAME_SUFFIXES = (".parquet", ".csv")


class MonitorService:
    """Logs predictions durably and compares feature windows for drift."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._writer: PredictionLogWriter | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def log_dir(self) -> Path:
        return self._ws.path(self._ws.config.monitor.log_dir)

    @property
    def writer_stats(self) -> WriterStats:
        """Counters of this process's prediction-log writer (all zero before the first log call)."""
        return self._writer.stats if self._writer is not None else WriterStats()

    def log_predictions(self, deployment: str, model_version: str, records: list[PredictionRecord]) -> None:
        """Queue ``records`` for the durable log; validates them, never waits on disk or database."""
        self._log_writer().log(deployment, model_version, records)

    def flush(self) -> None:
        """Write every queued record now (Parquet partition + index row)."""
        if self._writer is not None:
            self._writer.flush()

    def read_predictions(self, deployment: str, since: datetime | None = None) -> pd.DataFrame:
        """Logged predictions of ``deployment`` (at or after ``since``), oldest first, one column per field."""
        check_deployment_name(deployment)
        # Read-your-writes: what this process logged is flushed before the index is read.
        self.flush()
        return read_prediction_log(self._ws.store, self.log_dir, deployment, since)

    def drift(
        self,
        reference: pd.DataFrame | Path,
        current: pd.DataFrame | Path,
        features: list[str] | None = None,
    ) -> DriftReport:
        """Per-feature drift of ``current`` against ``reference`` (DataFrames or .parquet/.csv paths)."""
        return compute_drift(load_frame(reference, "reference"), load_frame(current, "current"), features)

    def close(self) -> None:
        """Flush and stop the prediction-log writer; safe to call twice."""
        with self._lock:
            self._closed = True
            writer = self._writer
        if writer is not None:
            writer.close()

    def _log_writer(self) -> PredictionLogWriter:
        # Started on first use, so drift checks and reads never spawn a thread.
        with self._lock:
            if self._writer is None:
                if self._closed:
                    raise EngineUnavailable(
                        "the monitor service is closed (the workspace was closed); "
                        "open the workspace again to log predictions"
                    )
                cfg = self._ws.config.monitor
                self._writer = PredictionLogWriter(
                    self.log_dir,
                    self._ws.store,
                    flush_rows=cfg.flush_rows,
                    flush_interval_s=cfg.flush_interval_s,
                )
            return self._writer


def load_frame(value: pd.DataFrame | Path | str, role: str) -> pd.DataFrame:
    """``value`` itself, or the Parquet/CSV file it names; errors name the path."""
    if isinstance(value, pd.DataFrame):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidInput(f"{role} must be a DataFrame or a .parquet/.csv path, got {type(value).__name__}")
    path = Path(value).expanduser()
    suffix = path.suffix.lower()
    if suffix not in FRAME_SUFFIXES:
        raise InvalidInput(f"{role} {path}: unsupported file type {suffix or '(none)'!r}; use .parquet or .csv")
    if not path.exists():
        raise NotFound(f"{role} {path} does not exist; check the path")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        # pyarrow's ArrowInvalid and pandas' ParserError/EmptyDataError are ValueErrors.
        kind = "Parquet" if suffix == ".parquet" else "CSV"
        raise InvalidInput(f"{role} {path} cannot be read as {kind}: {exc}") from exc
