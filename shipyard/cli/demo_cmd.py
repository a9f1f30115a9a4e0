"""``shipyard demo``: the whole path from notebook to monitored endpoint, with timings."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, emit, handled, log


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same path as Ctrl-C, so the demo's `finally` stops Triton and the API server.
    raise KeyboardInterrupt


def demo(
    workspace: Annotated[
        Path,
        typer.Option("--workspace", "-w", help="Folder for the demo workspace (replaced if a demo made it)."),
    ] = Path(".shipyard-demo"),
    customers: Annotated[int, typer.Option(min=500, help="Customers to generate.")] = 50_000,
    requests: Annotated[int, typer.Option(min=5, help="Prediction requests per traffic phase.")] = 40,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Entities per request.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Generate data, build features, train, deploy on Triton, send traffic, detect drift, alert, retrain, gate."""
    from shipyard.demo import DemoOptions, DemoStep, run_demo

    signal.signal(signal.SIGTERM, _raise_interrupt)
    started = time.perf_counter()

    def progress(step: DemoStep) -> None:
        log(f"[{time.perf_counter() - started:6.1f}s] {step.name:<48} {step.seconds:6.1f}s  {step.detail}")

    with handled(as_json):
        options = DemoOptions(workspace=workspace, customers=customers, requests=requests, batch=batch)
        result = run_demo(options, progress)
        total = time.perf_counter() - started
        emit(
            {
                "workspace": str(result.workspace),
                "total_s": round(total, 1),
                "steps": [
                    {"name": s.name, "seconds": round(s.seconds, 2), "detail": s.detail} for s in result.steps
                ],
                "summary": result.summary,
            },
            as_json,
            lambda r: _render_summary(r),
        )


def _render_summary(r: dict[str, Any]) -> str:
    s = r["summary"]
    return "\n".join(
        [
            "",
            f"Demo finished in {r['total_s']:.1f}s. Where things are:",
            f"  workspace          {s['workspace']}",
            f"  copilot            {_top_citation(s['copilot']['answer'])}",
            f"  MLflow             {s['mlflow']['tracking_uri']}  run {s['mlflow']['run_id']}  ({s['mlflow']['model']})",
            f"  Dagster defs       {s['dagster_definitions']}",
            f"  pipeline run       {s['pipeline_run']['run_id']}",
            f"  endpoint           {s['endpoint']}  (Triton {s['triton']})",
            f"  prediction log     {s['prediction_log']}",
            f"  drift reports      {', '.join(s['drift_reports'])}",
            f"  drift, normal      {', '.join(s['normal_drifted_features']) or 'none'}",
            f"  drift, shifted     {', '.join(s['shifted_drifted_features']) or 'none'}"
            f"  (shifted feature: {s['shifted_feature']})",
            *_loop_lines(s["monitor_loop"]),
            "All processes the demo started (Triton, API server, webhook receiver) have been stopped.",
            f"Next: `{s['lab']}` opens JupyterLab with the copilot, feature browser, promote and monitoring.",
        ]
    )


def _top_citation(answer: dict[str, Any]) -> str:
    citations = answer.get("citations") or []
    if not citations:
        return "no citation"
    top = citations[0]
    column = f" ({top['column']})" if top.get("column") else ""
    return f"{top['kind']} {top['name']}{column}"


def _loop_lines(loop: dict[str, Any]) -> list[str]:
    alerts = ", ".join(f"{a['kind']} on {a['subject']}" for a in loop["alerts"]) or "none"
    lines = [f"  alerts             {alerts}  ({loop['windows']} windows checked)"]
    lines += [f"  webhook received   {r['text']}" for r in loop["webhook_received"]]
    if not loop["webhook_received"]:
        lines.append(f"  webhook received   nothing at {loop['webhook_url']}")
    retrain = loop["retrain"]
    if retrain is None:
        return [*lines, "  retraining         not triggered"]
    lines.append(f"  retraining run     {retrain.get('run_id') or '-'} ({retrain['status']})")
    candidate = retrain.get("candidate")
    lines.append(f"  promotion gate     {candidate['summary'] if candidate else 'no candidate registered'}")
    return lines
