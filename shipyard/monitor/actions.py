"""What a fired alert does: an outbox event, webhook deliveries, and optionally a retraining run."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from shipyard.errors import ShipyardError
from shipyard.events.outbox import publish
from shipyard.events.sinks import dispatch_pending, make_sink
from shipyard.events.webhooks import Delivery
from shipyard.monitor.alerts import CheckResult, MonitorRules, MonitorState, alert_payload

if TYPE_CHECKING:
    from shipyard.workspace import Workspace


def act_on_alerts(ws: Workspace, result: CheckResult, rules: MonitorRules, state: MonitorState) -> None:
    """Publish each alert, start the retraining pipeline if configured, deliver pending monitor events."""
    for alert in result.alerts:
        alert.event_id = publish(
            ws.store, ws.project, "monitor.alert", alert_payload(result.deployment, alert)
        ).id
    triggers = [a for a in result.alerts if a.kind in rules.retrain_on]
    if rules.retrain_pipeline and triggers:
        result.retrain = _retrain(ws, result.deployment, rules, [a.subject for a in triggers])
        state.retrains = [*state.retrains, result.retrain][-50:]
    _deliver(ws, result, rules)


def _deliver(ws: Workspace, result: CheckResult, rules: MonitorRules) -> None:
    """Send this deployment's pending monitor events to the configured sink and webhooks."""
    try:
        sink = make_sink(rules.event_sink)
    except ShipyardError as exc:
        # Alerts are already in the outbox and the pass must still save its state; the events stay
        # pending and go out on a later pass once the sink is reachable.
        result.deliveries = [asdict(Delivery(0, rules.event_sink.kind, False, 0, error=exc.message))]
        return
    try:
        report = dispatch_pending(
            ws.store,
            sink,
            rules.webhooks,
            ws.project,
            accept=lambda e: (
                e.kind.startswith("monitor.") and e.payload.get("deployment") == result.deployment
            ),
        )
        result.deliveries = [asdict(d) for d in report.deliveries]
    finally:
        sink.close()


def _retrain(ws: Workspace, deployment: str, rules: MonitorRules, reasons: list[str]) -> dict[str, Any]:
    params = dict(rules.retrain_params)
    record: dict[str, Any] = {"pipeline": rules.retrain_pipeline, "params": params, "reasons": reasons}
    try:
        run = ws.pipelines.run(rules.retrain_pipeline, params)
        record |= {"run_id": run.run_id, "status": run.status}
    except ShipyardError as exc:
        # The alert stands even when retraining cannot start; the failure is an event people see.
        record |= {"run_id": "", "status": "failed", "error": exc.message}
    # The candidate the run registers reaches the champion alias only through the registry's gates.
    record["note"] = "candidate must pass the registry's promotion gates"
    event = publish(
        ws.store,
        ws.project,
        "monitor.retrain",
        {
            "deployment": deployment,
            "title": f"{deployment}: retraining {record['status']}",
            "message": f"pipeline {rules.retrain_pipeline!r} run {record.get('run_id') or '-'}: {record['status']}",
            **record,
        },
    )
    record["event_id"] = event.id
    return record
