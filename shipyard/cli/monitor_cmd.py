"""``shipyard monitor``: drift, reference profiles, HTML reports, labels, performance, latency, alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

app = typer.Typer(help="Drift and prediction monitoring.", no_args_is_help=True)


def render_drift(report: dict[str, Any]) -> str:
    """A table of per-feature drift for people."""
    lines = [f"drift detected: {'YES' if report['drift_detected'] else 'no'}"]
    for col, f in report["features"].items():
        mark = "DRIFT" if f["drifted"] else "ok"
        if f.get("status") == "not_computable":
            mark = "not computable"
        p = f"p={f['p_value']:.3g}" if f.get("p_value") is not None else ""
        lines.append(
            f"  {col:<28} {f['method']:<10} stat={f['statistic']:.4f} {p:<12} "
            f"threshold={f['threshold']:.4g} {mark}"
        )
    return "\n".join(lines)


@app.command("drift")
def drift(
    reference: Annotated[
        Path, typer.Option(help="Reference frame (.parquet or .csv), e.g. the training frame.")
    ],
    current: Annotated[Path, typer.Option(help="Current window (.parquet or .csv), e.g. logged traffic.")],
    feature: Annotated[
        list[str] | None, typer.Option("--feature", "-f", help="Only these columns (repeat).")
    ] = None,
    rule: Annotated[
        str,
        typer.Option(help="calibrated (thresholds calibrated from the reference) or classic (issue-2 rule)."),
    ] = "calibrated",
    min_effect: Annotated[
        bool,
        typer.Option(
            "--min-effect/--no-min-effect",
            help="calibrated rule: also require a material effect (--min-ks, --min-w, --min-scale).",
        ),
    ] = True,
    min_ks: Annotated[float, typer.Option(help="KS (CDF gap) floor of a numeric breach.")] = 0.03,
    min_w: Annotated[float, typer.Option(help="Cohen's w floor of a chi-square breach.")] = 0.05,
    min_scale: Annotated[
        float, typer.Option(help="Floor of a scale (spread) breach, in reference score sds.")
    ] = 0.06,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-feature drift (KS, chi-square, PSI) against calibrated thresholds, with the overall decision."""
    from shipyard.monitor.drift_files import compute_drift, drift_policy

    with handled(as_json):
        policy = drift_policy(min_effect=min_effect, min_ks=min_ks, min_w=min_w, min_scale=min_scale)
        report = compute_drift(reference, current, feature or None, rule, policy).to_dict()
        emit(report, as_json, render_drift)


@app.command("deployment")
def deployment(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Drift of a deployment's logged traffic against its training reference."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        report = Workspace.open(workspace).monitor.deployment_drift(name).to_dict()
        emit(report, as_json, render_drift)


def _ws(workspace: Path | None) -> Any:
    from shipyard.workspace import Workspace

    return Workspace.open(workspace)


@app.command("profile")
def profile(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    reference: Annotated[Path, typer.Option(help="Training reference (.parquet or .csv).")],
    feature: Annotated[list[str] | None, typer.Option("--feature", "-f", help="Only these columns.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Capture (or replace) a deployment's reference profile from its training frame."""
    from shipyard.monitor.profile import profile_payload

    with handled(as_json):
        with _ws(workspace) as ws:
            result = ws.monitor.capture_reference_profile(name, reference, feature or None)
            emit(profile_payload(result), as_json)


@app.command("report")
def report(
    name: Annotated[
        str | None, typer.Argument(help="Deployment (its latest window), or use --reference/--current.")
    ] = None,
    reference: Annotated[Path | None, typer.Option(help="Reference frame (.parquet or .csv).")] = None,
    current: Annotated[Path | None, typer.Option(help="Current window (.parquet or .csv).")] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("drift-report.html"),
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write Evidently's HTML data-drift report for a window."""
    from shipyard.monitor.drift_files import drift_report

    with handled(as_json):
        if name is None:
            # Files only: no workspace needed, as for `monitor drift`.
            result = drift_report(reference, current, out)
        else:
            with _ws(workspace) as ws:
                result = ws.monitor.report(out, name, reference, current)
        emit(result, as_json, lambda r: f"wrote {r.path} ({r.rows_current} rows vs {r.rows_reference})")


@app.command("labels")
def labels(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    file: Annotated[
        Path, typer.Argument(help="Labels (.parquet/.csv): request_id,label or entity keys,ts,label.")
    ],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest delayed ground truth for a deployment's predictions."""
    with handled(as_json):
        with _ws(workspace) as ws:
            emit(ws.monitor.ingest_labels(name, file), as_json)


@app.command("performance")
def performance(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    window: Annotated[str, typer.Option(help="Window length (pandas frequency: 1h, 1D, 7D).")] = "1D",
    output: Annotated[str, typer.Option(help="Logged output column holding the score.")] = "probability",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """AUC, F1, precision/recall, ECE (or RMSE/MAE) per window of labelled predictions."""
    with handled(as_json):
        with _ws(workspace) as ws:
            emit({"deployment": name, "windows": ws.monitor.performance(name, window, output)}, as_json)


@app.command("latency")
def latency(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    window: Annotated[str, typer.Option(help="Window length (pandas frequency).")] = "1h",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """p50/p95/p99 latency and request rate per window."""
    with handled(as_json):
        with _ws(workspace) as ws:
            emit({"deployment": name, "windows": ws.monitor.latency(name, window)}, as_json)


@app.command("configure")
def configure(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    rules_file: Annotated[
        Path, typer.Option("--rules", help="JSON file of monitor rules (see MonitorRules).")
    ],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a deployment's alert rules: breach k of n, latency SLO, webhooks, retraining pipeline."""
    from shipyard.errors import InvalidInput
    from shipyard.monitor.alerts import MonitorRules

    with handled(as_json):
        try:
            rules = MonitorRules.model_validate_json(rules_file.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"rules file {rules_file}: {exc}") from exc
        with _ws(workspace) as ws:
            emit(ws.monitor.configure(name, rules), as_json)


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One monitoring pass over new traffic (for cron): windows, alerts, webhooks, retraining."""
    with handled(as_json):
        with _ws(workspace) as ws:
            result = ws.monitor.run_checks(name)
            emit(
                result,
                as_json,
                lambda r: "\n".join(
                    [f"{len(r.windows)} window(s) checked, {r.pending_rows} row(s) pending"]
                    + [f"ALERT {a.kind}: {a.message}" for a in r.alerts]
                ),
            )


@app.command("status")
def status(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recent windows, open alerts, retraining runs and monitor events of a deployment."""
    with handled(as_json):
        with _ws(workspace) as ws:
            emit(ws.monitor.status(name), as_json)


@app.command("schedule")
def schedule(
    cron: Annotated[
        str, typer.Option(help="Cron expression of the schedule (UTC), e.g. '*/15 * * * *' or '@hourly'.")
    ] = "*/15 * * * *",
    deployment: Annotated[
        list[str] | None,
        typer.Option("--deployment", "-d", help="Monitor only these deployments (repeat); default: all."),
    ] = None,
    sensor_interval: Annotated[
        int, typer.Option(help="Seconds between ticks of the new-partition sensor.")
    ] = 60,
    out: Annotated[
        Path | None,
        typer.Option(help="Code location file to write (default .shipyard/monitor/definitions.py)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the Dagster code location (schedule + new-partition sensor) that runs the monitoring passes."""
    from shipyard.monitor.scheduling import ScheduleOptions

    with handled(as_json):
        options = ScheduleOptions(cron, list(deployment or []), sensor_interval, out)
        with _ws(workspace) as ws:
            result = ws.monitor.write_schedule(options)
        emit(result, as_json, lambda r: f"wrote {r.path}\nserve it with: {r.command}")
