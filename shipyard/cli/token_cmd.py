"""``shipyard token create|list|revoke``: bearer tokens for the REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a token; its secret is printed once."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        issued = Workspace.open(workspace).tokens.create(name)
        emit(issued, as_json, lambda t: t.secret)


@app.command("list")
def list_tokens(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List tokens (names and prefixes, never secrets)."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        tokens = Workspace.open(workspace).tokens.list()
        emit(
            tokens,
            as_json,
            lambda ts: "\n".join(f"{t.prefix}…  {t.name}{'  (revoked)' if t.revoked else ''}" for t in ts),
        )


@app.command("revoke")
def revoke(
    prefix: Annotated[str, typer.Argument(help="Token prefix as shown by `shipyard token list`.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token; the next request with it gets 401."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        Workspace.open(workspace).tokens.revoke(prefix)
        emit({"revoked": prefix}, as_json, lambda r: f"revoked {r['revoked']}")
