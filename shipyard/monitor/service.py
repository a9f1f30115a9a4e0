"""MonitorService: the prediction log and drift checks of a workspace, behind one object."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from shipyard.errors import EngineUnavailable, InvalidInput, NotFound
from shipyard.monitor.alerts import (
    CheckResult,
    MonitorRules,
    MonitorState,
    load_json_model,
    save_json,
)
from shipyard.monitor.calibration import CalibrationPolicy, calibrated_drift
from shipyard.monitor.drift import DriftReport
from shipyard.monitor.drift_files import compute_drift, drift_policy, drift_report, load_frame
from shipyard.monitor.log_reader import read_prediction_log
from shipyard.monitor.metrics import MonitorMetrics
from shipyard.monitor.performance import (
    LabelIngest,
    MetricWindow,
    check_labels,
    join_labels,
    latency_stats,
    load_labels,
    metrics,
    rolling_windows,
    save_labels,
)
from shipyard.monitor.prediction_log import PredictionLogWriter, WriterStats
from shipyard.monitor.profile import ReferenceProfile, build_profile
from shipyard.monitor.records import PredictionRecord, check_deployment_name
from shipyard.monitor.report import HtmlReport
from shipyard.monitor.scheduling import ScheduleLocation, ScheduleOptions

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

__all__ = [
    "MonitorService",
    "PredictionRecord",
    "DriftReport",
    "compute_drift",
    "drift_policy",
    "drift_report",
    "load_frame",
]


class MonitorService:
    """Logs predictions durably and compares feature windows for drift."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._writer: PredictionLogWriter | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._metrics: MonitorMetrics | None = None

    @property
    def metrics(self) -> MonitorMetrics:
        """This workspace's Prometheus series (created on first use)."""
        with self._lock:
            if self._metrics is None:
                self._metrics = MonitorMetrics()
            return self._metrics

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
        # After the writer validated them, so rejected batches are not counted.
        self.metrics.record_predictions(deployment, model_version, records)

    def record_failure(self, deployment: str, code: str) -> None:
        """Count a failed prediction request (the predict path calls this; it feeds the error rate)."""
        self.metrics.record_failure(deployment, code)

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
        rule: str = "calibrated",
        policy: CalibrationPolicy | None = None,
    ) -> DriftReport:
        """Per-feature drift of ``current`` against ``reference`` (DataFrames or .parquet/.csv paths)."""
        return compute_drift(reference, current, features, rule, policy)

    def profile_path(self, deployment: str) -> Path:
        """Where the deployment's reference profile (JSON) lives."""
        return self._ws.state_dir / "monitor" / check_deployment_name(deployment) / "reference-profile.json"

    def capture_reference_profile(
        self, deployment: str, reference_frame: pd.DataFrame | Path, features: list[str] | None = None
    ) -> ReferenceProfile:
        """Profile the training reference of ``deployment`` and store it as JSON (called at deploy time)."""
        frame = load_frame(reference_frame, "reference")
        profile = build_profile(frame, features, deployment=check_deployment_name(deployment))
        if not isinstance(reference_frame, pd.DataFrame):
            profile.source = str(reference_frame)
        profile.save(self.profile_path(deployment))
        return profile

    def reference_profile(self, deployment: str) -> ReferenceProfile:
        """The stored reference profile of ``deployment``."""
        return ReferenceProfile.load(self.profile_path(deployment))

    def deployment_drift(self, deployment: str, since: datetime | None = None) -> DriftReport:
        """Drift of a deployment's logged features (at or after ``since``) against its training reference."""
        current = self.read_predictions(deployment, since)
        return self.window_drift(deployment, current, since, self.rules(deployment).drift)

    def window_drift(
        self,
        deployment: str,
        current: pd.DataFrame,
        since: datetime | None = None,
        policy: CalibrationPolicy | None = None,
    ) -> DriftReport:
        """Calibrated drift of one window of logged rows against the deployment's reference profile."""
        profile, names = self.deployment_profile(deployment)
        if current.empty:
            raise InvalidInput(
                f"no predictions logged for deployment {deployment!r}"
                + (f" since {since.isoformat()}" if since else "")
                + "; send traffic to it first"
            )
        features = [name for name in names if name in profile.features]
        if not features:
            raise InvalidInput(f"the reference of deployment {deployment!r} has none of its features {names}")
        return calibrated_drift(profile, current, features, policy)

    def deployment_profile(self, deployment: str) -> tuple[ReferenceProfile, list[str]]:
        """The deployment's reference profile (captured from its reference sample if not stored yet) and features."""
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        check_deployment_name(deployment)
        with self._ws.store.session() as session:
            row = session.scalars(select(Deployment).where(Deployment.name == deployment)).one_or_none()
            if row is None:
                raise NotFound(f"no deployment named {deployment!r}; list them with `shipyard deployments`")
            reference_path, refs = row.reference_path, list(row.feature_refs)
        names = [ref.rpartition(":")[2] for ref in refs]
        if self.profile_path(deployment).exists():
            stored = self.reference_profile(deployment)
            # A redeploy records a new reference sample; a profile of another file is stale.
            if not reference_path or stored.source in ("", str(self._ws.path(reference_path))):
                return stored, names
        if not reference_path:
            raise NotFound(f"deployment {deployment!r} has no reference sample recorded; deploy it again")
        reference = load_frame(self._ws.path(reference_path), "reference")
        features = [name for name in names if name in reference.columns]
        if not features:
            raise InvalidInput(
                f"reference {reference_path} of deployment {deployment!r} has none of its features {names}"
            )
        profile = build_profile(reference, features, deployment=deployment)
        profile.source = str(self._ws.path(reference_path))
        profile.save(self.profile_path(deployment))
        return profile, names

    def report(
        self,
        out: Path,
        deployment: str | None = None,
        reference: pd.DataFrame | Path | None = None,
        current: pd.DataFrame | Path | None = None,
    ) -> HtmlReport:
        """Evidently HTML drift report: a deployment's latest window, or ``reference`` vs ``current``."""
        from shipyard.monitor.report import write_drift_report

        if deployment is not None:
            if reference is not None or current is not None:
                raise InvalidInput("give a deployment, or --reference and --current, not both")
            profile, names = self.deployment_profile(deployment)
            ref_path = self._reference_path(deployment)
            ref = load_frame(self._ws.path(ref_path), "reference")
            rows = self.rules(deployment).window_rows
            cur = self.read_predictions(deployment).tail(rows)
            if cur.empty:
                raise InvalidInput(f"no predictions logged for deployment {deployment!r}; send traffic first")
            columns = [c for c in names if c in profile.features and c in ref.columns]
        else:
            return drift_report(reference, current, out)
        return write_drift_report(ref, cur, columns, Path(out))

    def _reference_path(self, deployment: str) -> str:
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        with self._ws.store.session() as session:
            row = session.scalars(select(Deployment).where(Deployment.name == deployment)).one_or_none()
            if row is None or not row.reference_path:
                raise NotFound(f"deployment {deployment!r} has no reference sample recorded; deploy it again")
            return row.reference_path

    # -- delayed labels, performance, latency ------------------------------------------------------------
    def monitor_dir(self, deployment: str) -> Path:
        """The deployment's monitor folder (profile, labels, rules, state)."""
        return self._ws.state_dir / "monitor" / check_deployment_name(deployment)

    def ingest_labels(self, deployment: str, labels: pd.DataFrame | Path) -> LabelIngest:
        """Store ground-truth labels (request_id or entity keys + ts -> label); count those matching no prediction."""
        frame = load_frame(labels, "labels")
        checked = check_labels(frame, self._entity_keys(deployment))
        predictions = self.read_predictions(deployment)
        matched = len(join_labels(predictions, checked, self._entity_keys(deployment)))
        path = save_labels(self.monitor_dir(deployment) / "labels", checked)
        return LabelIngest(len(checked), matched, len(checked) - matched, str(path))

    def performance(
        self, deployment: str, freq: str = "1D", output: str = "probability"
    ) -> list[MetricWindow]:
        """AUC/F1/precision/recall/ECE (0/1 labels) or RMSE/MAE per ``freq`` window of labelled predictions."""
        labels = load_labels(self.monitor_dir(deployment) / "labels")
        if labels.empty:
            raise NotFound(f"no labels ingested for deployment {deployment!r}; use `shipyard monitor labels`")
        joined = join_labels(self.read_predictions(deployment), labels, self._entity_keys(deployment))
        if not joined.empty and output not in joined.columns:
            raise InvalidInput(f"output column {output!r} is not in the prediction log of {deployment!r}")
        return rolling_windows(
            joined,
            freq,
            lambda rows: metrics(rows["label"].to_numpy(float), rows[output].to_numpy(float)),
        )

    def latency(self, deployment: str, freq: str = "1h", since: datetime | None = None) -> list[MetricWindow]:
        """p50/p95/p99 latency and request rate per ``freq`` window of the prediction log."""
        return rolling_windows(self.read_predictions(deployment, since), freq, latency_stats)

    # -- rules, passes, status ----------------------------------------------------------------------------
    def configure(self, deployment: str, rules: MonitorRules) -> MonitorRules:
        """Store the deployment's alert rules (webhooks, breach k of n, SLOs, retraining pipeline)."""
        save_json(self.monitor_dir(deployment) / "rules.json", rules)
        return rules

    def rules(self, deployment: str) -> MonitorRules:
        """The deployment's alert rules (defaults when never configured)."""
        return load_json_model(self.monitor_dir(deployment) / "rules.json", MonitorRules, "monitor rules")

    def run_checks(self, deployment: str) -> CheckResult:
        """One monitoring pass over partitions logged since the last: windows, alerts, webhooks, retraining."""
        from shipyard.monitor.passes import run_pass

        self.deployment_profile(deployment)  # an unknown deployment fails before any state is written
        return run_pass(self._ws, self, deployment)

    def unread_partitions(self, deployment: str) -> int:
        """Prediction-log partitions of ``deployment`` that its next pass would read."""
        from shipyard.monitor.passes import unread_partitions

        return unread_partitions(self._ws, self, check_deployment_name(deployment))

    def unread_labels(self, deployment: str) -> int:
        """Label batches of ``deployment`` ingested since its last pass."""
        from shipyard.monitor.passes import unread_labels

        return unread_labels(self, check_deployment_name(deployment))

    def log_cursor(self, deployment: str) -> int:
        """Id of the newest prediction-log partition of ``deployment`` (0: nothing logged yet)."""
        from shipyard.monitor.log_reader import latest_partition

        return latest_partition(self._ws.store, check_deployment_name(deployment))

    def deployment_names(self) -> list[str]:
        """Names of this project's deployments (what a schedule monitors when given none)."""
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        with self._ws.store.session() as session:
            query = select(Deployment.name).where(Deployment.project == self._ws.project)
            return sorted(session.scalars(query))

    def write_schedule(self, options: ScheduleOptions) -> ScheduleLocation:
        """Write the Dagster code location (schedule + new-partition sensor) that runs the checks."""
        from shipyard.monitor.scheduling import write_code_location

        known = set(self.deployment_names())
        for name in options.deployments:
            if check_deployment_name(name) not in known:
                raise NotFound(f"no deployment named {name!r}; list them with `shipyard deployments`")
        default = self._ws.state_dir / "monitor" / "definitions.py"
        return write_code_location(self._ws.root, options, default)

    def status(self, deployment: str) -> dict[str, Any]:
        """Recent windows, open alerts, retraining runs and monitor events of ``deployment``."""
        from shipyard.events.outbox import recent

        state = load_json_model(self.monitor_dir(deployment) / "state.json", MonitorState, "monitor state")
        events = [
            e
            for e in recent(self._ws.store, self._ws.project, "monitor.")
            if e.payload.get("deployment") == deployment
        ]
        return {
            "deployment": deployment,
            "last_checked_ts": state.last_ts,
            "checked_at": state.checked_at,
            "partition_cursor": state.partition_cursor,
            "unread_partitions": self.unread_partitions(deployment),
            "windows": state.windows[-10:],
            "open_alerts": state.open_alerts,
            "retrains": state.retrains[-10:],
            "events": [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "title": e.payload.get("title"),
                    "delivered": e.delivered_at is not None,
                    "created_at": e.created_at,
                }
                for e in events
            ],
        }

    def validation_metric(self, deployment: str, metric: str) -> float | None:
        """``metric`` as the registry recorded it for the deployed model version (None if it has none)."""
        from sqlalchemy import select

        from shipyard.errors import ShipyardError
        from shipyard.store.models import Deployment

        with self._ws.store.session() as session:
            row = session.scalars(select(Deployment).where(Deployment.name == deployment)).one_or_none()
            if row is None:
                return None
            model, version = row.model_name, row.model_version
        try:
            value = self._ws.registry.resolve(model, version).metrics.get(metric)
        except ShipyardError:
            return None  # a model logged outside the registry: only a baseline in the rules applies
        return float(value) if value is not None else None

    def _entity_keys(self, deployment: str) -> list[str]:
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        with self._ws.store.session() as session:
            row = session.scalars(select(Deployment).where(Deployment.name == deployment)).one_or_none()
            return list(row.entity_keys) if row is not None else []

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
