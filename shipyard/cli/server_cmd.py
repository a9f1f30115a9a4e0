"""``shipyard server``: the REST API on uvicorn, with Triton serving every deployment."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.common import WorkspaceOpt, handled, log


def register(app: typer.Typer) -> None:
    app.command("server")(server)


def server(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default from shipyard.toml: 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 8765).")] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start Triton and load deployments.")
    ] = True,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the Shipyard REST API for a workspace until interrupted."""
    import uvicorn

    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace

    with handled(False):
        ws = Workspace.open(workspace)
        bind_host = host or ws.config.server.host
        bind_port = port or ws.config.server.port
        log(f"Shipyard API on http://{bind_host}:{bind_port}/api/v1 (workspace {ws.root})")
        uvicorn.run(
            create_app(ws, serve_deployments=serve), host=bind_host, port=bind_port, log_level="warning"
        )
