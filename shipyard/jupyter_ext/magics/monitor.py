"""``%monitor status|run|drift|latency|performance DEPLOYMENT`` and ``%monitor schedule [DEPLOYMENT]``."""

from __future__ import annotations

import shlex
from typing import Any

from shipyard.errors import InvalidInput

ACTIONS = ("status", "run", "drift", "latency", "performance", "schedule")
USAGE = "usage: %monitor status|run|drift|latency|performance DEPLOYMENT, or %monitor schedule [DEPLOYMENT]"


def parse_monitor_line(line: str) -> tuple[str, str]:
    """``status churn`` -> ("status", "churn")."""
    try:
        parts = shlex.split(line)
    except ValueError as exc:
        raise InvalidInput(f"%monitor {line!r}: {exc}; {USAGE}") from exc
    if parts == ["schedule"]:
        return "schedule", ""  # every deployment
    if len(parts) != 2 or parts[0] not in ACTIONS:
        raise InvalidInput(f"%monitor {line!r}: {USAGE}")
    return parts[0], parts[1]


def monitor_magic(session: Any, line: str) -> Any:
    """Run one monitor action and return a table (HTML in a notebook, text elsewhere)."""
    from shipyard.jupyter_ext.magics.deploy import Rows

    action, name = parse_monitor_line(line)
    service = session.workspace.monitor
    if action == "schedule":
        from shipyard.monitor.scheduling import ScheduleOptions

        location = service.write_schedule(ScheduleOptions(deployments=[name] if name else []))
        title = f"Dagster code location for {name or 'every deployment'} (cron {location.cron})"
        return Rows(["file", "serve it with"], [[location.path, location.command]], title)
    if action == "drift":
        report = service.deployment_drift(name)
        rows = [
            [c, f.method, f"{f.statistic:.4g}", f"{f.threshold:.4g}", "DRIFT" if f.drifted else "ok"]
            for c, f in report.features.items()
        ]
        return Rows(["feature", "method", "statistic", "threshold", "decision"], rows, f"{name}: drift")
    if action in ("latency", "performance"):
        windows = service.latency(name) if action == "latency" else service.performance(name)
        keys = sorted({k for w in windows for k in w.metrics})
        rows = [[w.start, *(f"{w.metrics.get(k, float('nan')):.4g}" for k in keys)] for w in windows]
        return Rows(["window", *keys], rows, f"{name}: {action}")
    if action == "run":
        result = service.run_checks(name)
        rows = [[a.kind, a.subject, a.message] for a in result.alerts]
        title = f"{name}: {len(result.windows)} window(s) checked, {len(result.alerts)} alert(s)"
        return Rows(["alert", "subject", "message"], rows, title)
    status = service.status(name)
    rows = [
        [e["created_at"], e["kind"], e["title"], "yes" if e["delivered"] else "no"] for e in status["events"]
    ]
    title = f"{name}: open alerts {', '.join(status['open_alerts']) or 'none'}"
    return Rows(["when", "event", "title", "delivered"], rows, title)


def register(ipython: Any, session: Any) -> None:
    """Register ``%monitor`` with ``ipython``."""
    ipython.register_magic_function(
        lambda line: monitor_magic(session, line), magic_kind="line", magic_name="monitor"
    )
