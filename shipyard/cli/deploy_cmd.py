"""``shipyard deploy``, ``shipyard deployments``, ``shipyard predict``: serving on Triton."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, parse_pairs
from shipyard.errors import InvalidInput


def split_model_ref(value: str) -> tuple[str, str]:
    """``churn@champion`` -> (churn, champion); a bare name means the champion alias."""
    name, _, ref = value.partition("@")
    if not name:
        raise InvalidInput(f"model {value!r}: expected NAME or NAME@ALIAS or NAME@VERSION")
    return name, ref or "champion"


def _stderr_progress(stage: str, state: str, seconds: float | None) -> None:
    # Step-by-step progress goes to stderr so `--json` keeps stdout to the one JSON document.
    took = f" ({seconds:.2f}s)" if seconds is not None else ""
    typer.echo(f"  {stage.replace('_', ' ')}: {state}{took}", err=True)


deployments_app = typer.Typer(
    help="Deployments: list (default), show, rollback, delete.", invoke_without_command=True
)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.add_typer(deployments_app, name="deployments")
    app.command("predict")(predict)


def deploy(
    model: Annotated[str, typer.Argument(help="NAME@ALIAS or NAME@VERSION, e.g. churn@champion.")],
    name: Annotated[str | None, typer.Option(help="Deployment name (default: the model name).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export to ONNX, check parity, write the Triton model repository, serve and register it."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        model_name, ref = split_model_ref(model)
        with Workspace.open(workspace) as ws:
            info = ws.deployments.deploy(model_name, ref, name, progress=_stderr_progress)
        emit(
            info,
            as_json,
            lambda d: (
                f"deployed {d.name}: {d.model_name} v{d.model_version} "
                f"(parity max abs diff {d.parity_max_abs_diff:.2e}, runtime {d.runtime or 'unknown'})"
            ),
        )


@deployments_app.callback()
def deployments(ctx: typer.Context, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List deployments (when no subcommand is given)."""
    if ctx.invoked_subcommand is None:
        list_deployments(workspace, as_json)


@deployments_app.command("list")
def list_deployments(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List deployments."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        items = Workspace.open(workspace).deployments.list()
        emit(
            items,
            as_json,
            lambda ds: (
                "\n".join(f"{d.name}: {d.model_name} v{d.model_version} [{d.status}]" for d in ds)
                or "no deployments"
            ),
        )


def predict(
    deployment: Annotated[str, typer.Argument(help="Deployment name.")],
    entity: Annotated[
        list[str], typer.Option("--entity", "-e", help="Entity key, e.g. customer_id=42 (repeat).")
    ],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict for entities (starts Triton for this call when no server is running)."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        rows = [parse_pairs([e], "--entity") for e in entity]
        with Workspace.open(workspace) as ws:
            result = ws.deployments.predict(deployment, rows)
        emit(result, as_json, lambda r: "\n".join(str(p) for p in r.predictions))


@deployments_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One deployment: model version, Triton model, feature refs, parity."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        emit(Workspace.open(workspace).deployments.get(name), as_json, None)


@deployments_app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve the previous model version again (loaded before the current one is unloaded)."""
    from shipyard.cli.common import log
    from shipyard.workspace import Workspace

    def progress(stage: str, state: str, seconds: float | None) -> None:
        if state != "start":
            log(f"{stage}: {state} ({seconds or 0:.2f}s)")

    with handled(as_json):
        with Workspace.open(workspace) as ws:
            info = ws.deployments.rollback(name, progress)
        emit(info, as_json, lambda d: f"rolled back {d.name} to {d.model_name} v{d.model_version}")


@deployments_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop serving a deployment and forget it (the registered model stays)."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        with Workspace.open(workspace) as ws:
            ws.deployments.delete(name)
        emit({"deleted": name}, as_json, lambda d: f"deleted {d['deleted']}")
