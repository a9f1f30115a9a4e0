"""Alert rules, the sustained-breach rule, and the checks of one monitoring pass.

A pass (``passes.run_pass``) reads the prediction-log partitions indexed since the last pass;
``run_checks`` cuts those rows into windows of ``window_rows`` rows (an incomplete tail waits for the next
pass) and for each window records calibrated drift and latency in the deployment's window history. A
feature alerts when it drifted in at least ``breach_k`` of the last ``breach_n`` windows (one alert per
breach: it re-arms once the count falls back below ``breach_k``); latency alerts the same way on
``latency_p95_ms``; performance alerts when a labelled metric falls ``performance_drop`` below its baseline
(from the rules, else the registry's validation metric). Alerts become outbox events (``monitor.alert``),
are sent to the webhooks, and may start the retraining pipeline (event ``monitor.retrain``); the
candidate it registers is promoted only through the registry's gates, never here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator

from shipyard.errors import InvalidInput, ShipyardError
from shipyard.events.sinks import EventSinkSettings
from shipyard.events.webhooks import WebhookTarget
from shipyard.monitor.calibration import CalibrationPolicy
from shipyard.monitor.performance import latency_stats

if TYPE_CHECKING:
    from shipyard.monitor.service import MonitorService

_HISTORY_KEPT = 200


class MonitorRules(BaseModel):
    """What a monitoring pass checks for one deployment, and what an alert does."""

    window_rows: int = Field(default=1000, ge=30)
    drift: CalibrationPolicy = Field(
        default_factory=CalibrationPolicy, description="calibrated drift rule (alpha, minimum effect size)"
    )
    breach_k: int = Field(default=3, ge=1)
    breach_n: int = Field(default=5, ge=1)
    latency_p95_ms: float | None = Field(default=None, gt=0)
    metric: str = Field(default="auc", description="labelled metric watched for a drop")
    baseline: float | None = Field(default=None, description="validation value at promotion")
    performance_drop: float = Field(default=0.05, ge=0)
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    event_sink: EventSinkSettings = Field(
        default_factory=EventSinkSettings, description="outbox (default) or a Kafka topic for monitor events"
    )
    retrain_pipeline: str = ""
    retrain_params: dict[str, Any] = Field(default_factory=dict)
    retrain_on: list[str] = Field(default_factory=lambda: ["drift", "performance"])
    promote_alias: str = Field(
        default="champion", description="alias the retrained candidate takes if it clears the gates"
    )
    promote_gates: list[str] = Field(
        default_factory=list, description="gates the candidate must clear, e.g. ['auc>=0.7']"
    )

    @model_validator(mode="after")
    def _k_within_n(self) -> MonitorRules:
        if self.breach_k > self.breach_n:
            raise ValueError(f"breach_k ({self.breach_k}) cannot exceed breach_n ({self.breach_n})")
        return self

    @field_validator("promote_gates")
    @classmethod
    def _gates_parse(cls, gates: list[str]) -> list[str]:
        from shipyard.registry.promotion import normalize_gates

        try:
            normalize_gates(gates)
        except ShipyardError as exc:
            raise ValueError(exc.message) from exc
        return gates

    @field_validator("promote_alias")
    @classmethod
    def _alias_valid(cls, alias: str) -> str:
        from shipyard.registry.models import validate_alias

        try:
            validate_alias(alias)
        except ShipyardError as exc:
            raise ValueError(exc.message) from exc
        return alias


@dataclass
class Alert:
    """One fired alert."""

    kind: str
    subject: str
    message: str
    event_id: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    """What one monitoring pass did."""

    deployment: str
    windows: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    retrain: dict[str, Any] | None = None
    pending_rows: int = 0


def sustained(history: list[list[str]], k: int, n: int) -> set[str]:
    """Subjects flagged in at least ``k`` of the last ``n`` windows (``history``: flagged subjects per window)."""
    counts: dict[str, int] = {}
    for flagged in history[-n:]:
        for subject in set(flagged):
            counts[subject] = counts.get(subject, 0) + 1
    return {s for s, c in counts.items() if c >= k}


class MonitorState(BaseModel):
    """Persisted between passes: where the last pass stopped, recent windows, alerts still open."""

    last_ts: datetime | None = None
    last_request_ids: list[str] = Field(default_factory=list)
    partition_cursor: int = Field(default=0, description="highest prediction-log partition id read")
    recent_partitions: list[int] = Field(
        default_factory=list, description="ids read that are close below the cursor (late commits)"
    )
    pending_file: str = Field(default="", description="rows of the incomplete last window (Parquet)")
    checked_at: datetime | None = None
    windows: list[dict[str, Any]] = Field(default_factory=list)
    open_alerts: list[str] = Field(default_factory=list)
    retrains: list[dict[str, Any]] = Field(default_factory=list)


def load_json_model(path: Path, model: type[Any], what: str) -> Any:
    """``model`` read from ``path`` (defaults when absent); errors name the file."""
    if not path.exists():
        return model()
    try:
        return model.model_validate_json(path.read_text())
    except ValueError as exc:
        raise InvalidInput(f"{what} {path} is not valid: {exc}; fix or delete it") from exc


def save_json(path: Path, value: BaseModel) -> None:
    """Write ``value`` as JSON atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value.model_dump_json(indent=1))
    tmp.replace(path)


def run_checks(
    service: MonitorService, deployment: str, rules: MonitorRules, state: MonitorState, logged: pd.DataFrame
) -> CheckResult:
    """Check the full windows of ``logged`` (new rows, oldest first); updates ``state`` in place."""
    result = CheckResult(deployment)
    full = len(logged) // rules.window_rows
    result.pending_rows = len(logged) - full * rules.window_rows
    for i in range(full):
        rows = logged.iloc[i * rules.window_rows : (i + 1) * rules.window_rows]
        report = service.window_drift(deployment, rows, policy=rules.drift)
        latency = latency_stats(rows)
        window = {
            "start": rows["ts"].iloc[0].isoformat(),
            "end": rows["ts"].iloc[-1].isoformat(),
            "rows": len(rows),
            "drifted": report.drifted_features,
            "drift": {
                col: {"statistic": f.statistic, "threshold": f.threshold, "drifted": f.drifted}
                for col, f in report.features.items()
            },
            "latency": latency,
            "latency_breach": bool(
                rules.latency_p95_ms and latency.get("p95_ms", 0.0) > rules.latency_p95_ms
            ),
        }
        state.windows = [*state.windows, window][-_HISTORY_KEPT:]
        result.windows.append(window)
        result.alerts.extend(_window_alerts(state, rules))
        last = rows["ts"].iloc[-1]
        state.last_ts = last.to_pydatetime()
        state.last_request_ids = rows.loc[rows["ts"] == last, "request_id"].astype(str).tolist()
    perf = _performance_alert(service, deployment, rules, state)
    if perf is not None:
        result.alerts.append(perf)
    return result


def _window_alerts(state: MonitorState, rules: MonitorRules) -> list[Alert]:
    history = [
        [f"drift:{c}" for c in w["drifted"]] + (["latency:p95"] if w["latency_breach"] else [])
        for w in state.windows
    ]
    breached = sustained(history, rules.breach_k, rules.breach_n)
    open_now = set(state.open_alerts)
    alerts = []
    for subject in sorted(breached - open_now):
        kind, _, name = subject.partition(":")
        last = state.windows[-1]
        if kind == "drift":
            stat = last["drift"].get(name, {})
            message = (
                f"feature {name!r} drifted in >= {rules.breach_k} of the last {rules.breach_n} windows "
                f"(statistic {stat.get('statistic', 0):.4g} vs calibrated threshold {stat.get('threshold', 0):.4g})"
            )
            detail = {"feature": name, **stat}
        else:
            message = (
                f"p95 latency above {rules.latency_p95_ms} ms in >= {rules.breach_k} of the last "
                f"{rules.breach_n} windows (now {last['latency'].get('p95_ms', 0):.1f} ms)"
            )
            detail = dict(last["latency"])
        alerts.append(Alert(kind, name, message, detail=detail))
    # A subject re-arms once its breach count falls back below k.
    state.open_alerts = sorted(breached)
    return alerts


def _performance_alert(
    service: MonitorService, deployment: str, rules: MonitorRules, state: MonitorState
) -> Alert | None:
    try:
        windows = service.performance(deployment, freq="1D")
    except ShipyardError:
        return None  # no labels yet
    values = [w.metrics[rules.metric] for w in windows if rules.metric in w.metrics]
    subject = f"performance:{rules.metric}"
    if not values:
        return None
    # No baseline in the rules: the validation metric the registry recorded for the deployed version.
    baseline = (
        rules.baseline if rules.baseline is not None else service.validation_metric(deployment, rules.metric)
    )
    if baseline is None:
        return None
    lower_is_better = rules.metric in ("rmse", "mae", "ece")
    now = values[-1]
    drop = (now - baseline) if lower_is_better else (baseline - now)
    if drop <= rules.performance_drop:
        state.open_alerts = [a for a in state.open_alerts if a != subject]
        return None
    if subject in state.open_alerts:
        return None
    state.open_alerts = sorted({*state.open_alerts, subject})
    source = "rules" if rules.baseline is not None else "registry"
    message = f"{rules.metric} is {now:.4f} against a baseline of {baseline:.4f} ({source}; drop {drop:.4f})"
    detail = {"value": now, "baseline": baseline, "baseline_source": source}
    return Alert("performance", rules.metric, message, detail=detail)


def alert_payload(deployment: str, alert: Alert) -> dict[str, Any]:
    """The outbox payload of an alert (webhook formats read ``title`` and ``message``)."""
    return {
        "deployment": deployment,
        "alert": alert.kind,
        "subject": alert.subject,
        "title": f"{deployment}: {alert.kind} alert on {alert.subject}",
        "message": alert.message,
        "detail": json.loads(json.dumps(alert.detail, default=str)),
        "fired_at": datetime.now(UTC).isoformat(),
    }


def window_frame(state: MonitorState) -> pd.DataFrame:
    """The recorded windows as a table (one row per window)."""
    return pd.DataFrame(
        [
            {
                "start": w["start"],
                "end": w["end"],
                "rows": w["rows"],
                "drifted": ",".join(w["drifted"]),
                **{f"latency_{k}": v for k, v in w["latency"].items()},
            }
            for w in state.windows
        ]
    )
