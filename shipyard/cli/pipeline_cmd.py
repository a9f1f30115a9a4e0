"""``shipyard pipeline promote|run|list|show|runs|serve``: notebook cells to Dagster pipelines, and their runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, log, parse_pairs

app = typer.Typer(help="Promote notebook cells to a pipeline and run it.", no_args_is_help=True)


def _render_promote(r: Any) -> str:
    verb = "pipeline" if r.applied else "preview (nothing written; drop --preview to write)"
    lines = [f"{verb} {r.name} at {r.path}"]
    for step in r.steps:
        after = f" after {', '.join(step.after)}" if step.after else ""
        res = f" [{', '.join(f'{k}={v}' for k, v in step.resources.items())}]" if step.resources else ""
        lines.append(f"  step {step.name}: cells {step.cells}{after}{res}")
    if r.parameters:
        lines.append("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in r.parameters.items()))
    diff = r.diff
    if not diff.new:
        if diff.empty:
            lines.append("  unchanged since the last promote")
        lines += [f"  + step {s}" for s in diff.added]
        lines += [f"  - step {s}" for s in diff.removed]
        lines += [f"  ~ step {s}: {', '.join(what)} changed" for s, what in diff.changed.items()]
        lines += [f"  {p}" for p in diff.parameters]
    lines += [f"  warning: {w}" for w in r.warnings]
    return "\n".join(lines)


def _render_run(r: Any) -> str:
    lines = [f"run {r.run_id}: {r.status}"]
    for s in r.steps:
        err = f"  ({s.error})" if s.error else ""
        status = "cached" if getattr(s, "cached", False) else s.status
        lines.append(f"  {s.name:<16} {status:<10} {s.duration_s:6.1f}s  {s.output_notebook or ''}{err}")
    return "\n".join(lines)


def _print_progress(step: Any) -> None:
    if step.status == "started":
        log(f"[{step.name}] started")
        return
    status = "cached (inputs and code unchanged)" if step.cached else step.status
    detail = f": {step.error}" if step.error else ""
    log(f"[{step.name}] {status} in {step.duration_s:.1f}s{detail}")


@app.command("promote")
def promote(
    notebook: Annotated[Path, typer.Argument(help="The .ipynb to promote.")],
    name: Annotated[
        str | None, typer.Option(help="Pipeline name (default: the notebook's metadata.shipyard.name).")
    ] = None,
    cells: Annotated[
        list[str] | None, typer.Option("--cells", help="Cell ids or ranges like 3-7 (repeat).")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Show steps, edges and the diff without writing anything.")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn tagged cells into papermill step notebooks wired as Dagster assets."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        service = Workspace.open(workspace).pipelines
        action = service.preview if preview else service.promote
        result = action(notebook, name, cells or None)
        emit(result, as_json, _render_promote)


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Pipeline name.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter override k=v (repeat).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run every step, even those whose inputs and code are unchanged.")
    ] = False,
    strict_resources: Annotated[
        bool,
        typer.Option("--strict-resources", help="Fail if this machine lacks a step's limit: resources."),
    ] = False,
    ray: Annotated[
        bool | None,
        typer.Option(
            "--ray/--no-ray",
            help="Run each step as a Ray task holding its limit: resources (default: notebook metadata "
            "shipyard.ray; Ray is local unless [ray] address is set).",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline in-process with live per-step progress on stderr; exit 1 if a step failed."""
    from shipyard.workspace import Workspace

    with handled(as_json), Workspace.open(workspace) as ws:
        result = ws.pipelines.run(
            name,
            parse_pairs(param or [], "--param"),
            force=force,
            strict_resources=strict_resources,
            progress=_print_progress,
            ray=ray,
        )
        for warning in result.warnings:
            log(f"warning: {warning}")
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


def _render_spec(spec: dict[str, Any]) -> str:
    lines = [
        f"pipeline {spec['name']} (from {spec['source']['path']}, sha256 {spec['source']['sha256'][:12]})",
        f"  kernel {spec.get('kernel')}, step timeout {spec.get('step_timeout_s', '-')}s",
    ]
    for step in spec["steps"]:
        after = f" after {', '.join(step['after'])}" if step["after"] else ""
        lines.append(f"  step {step['name']}: cells {step['cells']}{after}")
    if spec.get("parameters"):
        lines.append("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in spec["parameters"].items()))
    return "\n".join(lines)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Pipeline name (or a run id from `shipyard pipeline run`).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A pipeline's steps, edges and parameters; given a run id, that run with per-step status."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        service = Workspace.open(workspace).pipelines
        if name in service.list_pipelines():
            emit(service.spec(name), as_json, _render_spec)
        else:
            emit(service.get_run(name), as_json, _render_run)


@app.command("runs")
def runs(
    name: Annotated[str | None, typer.Argument(help="Pipeline name (default: all pipelines).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many, newest first.")] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded runs, newest first."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        found = Workspace.open(workspace).pipelines.list_runs(name, limit)
        emit(
            {"runs": found},
            as_json,
            lambda r: "\n".join(f"{x.run_id}  {x.pipeline:<20} {x.status}" for x in r["runs"]),
        )


@app.command("serve")
def serve(
    name: Annotated[str, typer.Argument(help="Pipeline name.")],
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 3000,
    workspace: WorkspaceOpt = None,
) -> None:
    """Start Dagster's webserver on 127.0.0.1 on the pipeline's definitions.py (Ctrl-C stops it)."""
    import os
    import subprocess

    from shipyard.workspace import Workspace

    with handled(False):
        command = Workspace.open(workspace).pipelines.webserver(name, port)
    log(f"Dagster UI for {name} at {command.url} (Ctrl-C to stop)")
    try:
        code = subprocess.call(command.argv, cwd=command.cwd, env={**os.environ, **command.env})
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
