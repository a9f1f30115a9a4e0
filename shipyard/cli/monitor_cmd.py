"""``shipyard monitor drift``: compare a reference frame with a current window."""

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
        p = f"p={f['p_value']:.3g}" if f.get("p_value") is not None else ""
        lines.append(
            f"  {col:<28} {f['method']:<10} stat={f['statistic']:.4f} {p:<12} "
            f"threshold={f['threshold']} {mark}"
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
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-feature drift (PSI, KS, chi-square) with the overall decision."""
    from shipyard.monitor.service import compute_drift

    with handled(as_json):
        report = compute_drift(reference, current, feature or None).to_dict()
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
