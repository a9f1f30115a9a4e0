"""``shipyard models list|show``: the MLflow model registry of the workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

app = typer.Typer(help="Registered models (MLflow).", no_args_is_help=True)


@app.command("list")
def list_models(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Registered models with their latest version and aliases."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        models = Workspace.open(workspace).registry.list_models()
        emit(
            models,
            as_json,
            lambda ms: "\n".join(
                f"{m.name} v{m.version}  aliases={','.join(m.aliases) or '-'}  run={m.run_id}" for m in ms
            ),
        )


@app.command("show")
def show(
    model: Annotated[str, typer.Argument(help="NAME@ALIAS or NAME@VERSION, e.g. churn@champion.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One model version with its lineage tags and metrics."""
    from shipyard.cli.deploy_cmd import split_model_ref
    from shipyard.workspace import Workspace

    with handled(as_json):
        name, ref = split_model_ref(model)
        emit(Workspace.open(workspace).registry.resolve(name, ref), as_json, None)
