"""``shipyard pipeline promote|run|list|show``: notebook cells to Dagster pipelines, and their runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, parse_pairs

app = typer.Typer(help="Promote notebook cells to a pipeline and run it.", no_args_is_help=True)


def _render_promote(r: Any) -> str:
    lines = [f"pipeline {r.name} at {r.path}"]
    for step in r.steps:
        after = f" after {', '.join(step.after)}" if step.after else ""
        lines.append(f"  step {step.name}: cells {step.cells}{after}")
    lines += [f"  warning: {w}" for w in r.warnings]
    return "\n".join(lines)


def _render_run(r: Any) -> str:
    lines = [f"run {r.run_id}: {r.status}"]
    for s in r.steps:
        err = f"  ({s.error})" if s.error else ""
        lines.append(f"  {s.name:<16} {s.status:<10} {s.duration_s:6.1f}s  {s.output_notebook or ''}{err}")
    return "\n".join(lines)


@app.command("promote")
def promote(
    notebook: Annotated[Path, typer.Argument(help="The .ipynb to promote.")],
    name: Annotated[str, typer.Option(help="Pipeline name (a Python identifier).")],
    cells: Annotated[
        list[str] | None, typer.Option("--cells", help="Cell ids or ranges like 3-7 (repeat).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn tagged cells into papermill step notebooks wired as Dagster assets."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).pipelines.promote(notebook, name, cells or None)
        emit(result, as_json, _render_promote)


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Pipeline name.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter override k=v (repeat).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline in-process; exit 1 if a step failed."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).pipelines.run(name, parse_pairs(param or [], "--param"))
        emit(result, as_json, _render_run)
    if result.status != "succeeded":
        raise typer.Exit(1)


@app.command("list")
def list_pipelines(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Names of promoted pipelines."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        names = Workspace.open(workspace).pipelines.list_pipelines()
        emit({"pipelines": names}, as_json, lambda r: "\n".join(r["pipelines"]))


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="Run id from `shipyard pipeline run`.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One run with per-step status."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        emit(Workspace.open(workspace).pipelines.get_run(run_id), as_json, _render_run)
