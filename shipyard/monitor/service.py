"""MonitorService: the prediction log and drift checks of a workspace, behind one object."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from shipyard.errors import EngineUnavailable, InvalidInput, NotFound
from shipyard.monitor import drift as drift_stats
from shipyard.monitor.drift import DriftReport
from shipyard.monitor.prediction_log import PredictionLogWriter, WriterStats, read_prediction_log
from shipyard.monitor.records import PredictionRecord, check_deployment_name

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

__all__ = ["MonitorService", "PredictionRecord", "DriftReport", "compute_drift", "load_frame"]

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
        return compute_drift(reference, current, features)

    def deployment_drift(self, deployment: str, since: datetime | None = None) -> DriftReport:
        """Drift of a deployment's logged features (at or after ``since``) against its training reference."""
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        check_deployment_name(deployment)
        with self._ws.store.session() as session:
            row = session.scalars(select(Deployment).where(Deployment.name == deployment)).one_or_none()
            if row is None:
                raise NotFound(f"no deployment named {deployment!r}; list them with `shipyard deployments`")
            reference_path, refs = row.reference_path, list(row.feature_refs)
        if not reference_path:
            raise NotFound(f"deployment {deployment!r} has no reference sample recorded; deploy it again")
        reference = load_frame(self._ws.path(reference_path), "reference")
        current = self.read_predictions(deployment, since)
        if current.empty:
            raise InvalidInput(
                f"no predictions logged for deployment {deployment!r}"
                + (f" since {since.isoformat()}" if since else "")
                + "; send traffic to it first"
            )
        names = [ref.rpartition(":")[2] for ref in refs]
        features = [name for name in names if name in reference.columns]
        if not features:
            raise InvalidInput(
                f"reference {reference_path} of deployment {deployment!r} has none of its features {names}"
            )
        return compute_drift(reference, current, features)

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


def compute_drift(
    reference: pd.DataFrame | Path | str,
    current: pd.DataFrame | Path | str,
    features: list[str] | None = None,
) -> DriftReport:
    """Drift of ``current`` against ``reference``, each a DataFrame or a .parquet/.csv path; no workspace needed."""
    return drift_stats.compute_drift(
        load_frame(reference, "reference"), load_frame(current, "current"), features
    )


def load_frame(value: pd.DataFrame | Path | str, role: str) -> pd.DataFrame:
    """``value`` itself, or the Parquet/CSV file it names; errors name the path."""
    if isinstance(value, pd.DataFrame):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidInput(f"{role} must be a DataFrame or a .parquet/.csv path, got {type(value).__name__}")
    path = Path(value).expanduser()
    suffix = path.suffix.lower()
    if suffix not in FRAME_SUFFIXES:
        raise InvalidInput(
            f"{role} {path}: unsupported file type {suffix or '(none)'!r}; use .parquet or .csv"
        )
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
