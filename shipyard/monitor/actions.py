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
        # A drift alert means the data changed: a step cached from an earlier run would return the old model.
        run = ws.pipelines.run(rules.retrain_pipeline, params, force=True)
        record |= {"run_id": run.run_id, "status": run.status}
    except ShipyardError as exc:
        # The alert stands even when retraining cannot start; the failure is an event people see.
        record |= {"run_id": "", "status": "failed", "error": exc.message}
    record["candidate"] = _gate_candidate(ws, deployment, rules, record) if record["run_id"] else None
    title = f"{deployment}: retraining {record['status']}"
    if record["candidate"] is not None:
        title += f"; {record['candidate']['summary']}"
    event = publish(
        ws.store,
        ws.project,
        "monitor.retrain",
        {
            "deployment": deployment,
            "title": title,
            "message": f"pipeline {rules.retrain_pipeline!r} run {record.get('run_id') or '-'}: {record['status']}",
            **record,
        },
    )
    record["event_id"] = event.id
    return record


def _gate_candidate(
    ws: Workspace, deployment: str, rules: MonitorRules, record: dict[str, Any]
) -> dict[str, Any] | None:
    """Put the version the run registered through the registry's promotion gates (None: it registered none)."""
    from shipyard.registry.lineage import TAG_PIPELINE_RUN

    model = _deployed_model(ws, deployment)
    if model is None or record["status"] != "succeeded":
        return None
    try:
        latest = ws.registry.resolve(model, "latest")
    except ShipyardError:
        return None  # the pipeline registered no model under the deployment's name
    if latest.tags.get(TAG_PIPELINE_RUN) != record["run_id"]:
        return None
    alias = rules.promote_alias
    out: dict[str, Any] = {"model": model, "version": latest.version, "alias": alias}
    if alias in latest.aliases:
        # The notebook moved the alias itself, so no gate decided anything; say so rather than "promoted".
        out |= {"promoted": None, "reasons": [f"the run set {alias!r} itself; register with alias=None"]}
        out["summary"] = f"candidate v{latest.version} took {alias!r} without the gates"
        return out
    try:
        report = ws.registry.promote(model, latest.version, alias, rules.promote_gates or None)
    except ShipyardError as exc:
        out |= {"promoted": False, "reasons": [exc.message]}
    else:
        out |= {
            "promoted": report.promoted,
            "reasons": report.reasons,
            "champion_version": report.champion_version,
            "gates": [asdict(g) for g in report.gates],
            "comparison": [asdict(c) for c in report.comparison],
        }
    verdict = f"promoted to {alias!r}" if out["promoted"] else f"refused ({'; '.join(out['reasons'])})"
    evidence = [f"{g['metric']}{g['op']}{g['threshold']:g}: {g['value']:.4f}" for g in out.get("gates", [])]
    evidence += [
        f"{c['metric']} {c['candidate']:.4f} vs champion v{out['champion_version']} {c['champion']:.4f}"
        for c in out.get("comparison", [])
    ]
    out["summary"] = f"candidate v{latest.version} {verdict}" + (
        f" [{'; '.join(evidence)}]" if evidence else ""
    )
    return out


def _deployed_model(ws: Workspace, deployment: str) -> str | None:
    from sqlalchemy import select

    from shipyard.store.models import Deployment

    with ws.store.session() as session:
        query = select(Deployment.model_name).where(Deployment.name == deployment)
        return session.scalars(query).one_or_none()
