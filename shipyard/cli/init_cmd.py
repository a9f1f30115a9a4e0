"""``shipyard init PATH [--example churn]``: create a workspace and its first API token."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, emit, handled, log


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the workspace in (created if missing).")],
    example: Annotated[str | None, typer.Option(help="Also set up an example: 'churn'.")] = None,
    project: Annotated[str | None, typer.Option(help="Project name (default: the folder name).")] = None,
    customers: Annotated[
        int, typer.Option(min=100, help="Customers to generate for --example churn.")
    ] = 50_000,
    as_json: JsonOpt = False,
) -> None:
    """Create shipyard.toml and .shipyard/, and print a new API token once."""
    from shipyard.workspace_init import init_workspace

    with handled(as_json):
        result = init_workspace(path, project=project, example=example, customers=customers)
        if not as_json:
            log(f"workspace ready at {result.root}")
        emit(
            result,
            as_json,
            lambda r: (
                f"Workspace: {r.root}\nProject:   {r.project}\n"
                f"API token (shown once, store it now): {r.token}\n"
                + (f"Example:   {r.example}\n" if r.example else "")
            ),
        )
