"""``shipyard token create|list|revoke``: bearer tokens for the REST API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled
from shipyard.errors import InvalidInput

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str) -> timedelta:
    """``30d``, ``12h``, ``15m`` to a timedelta (``InvalidInput`` names --expires)."""
    match = re.fullmatch(r"(\d{1,6})([mhd])", value.strip())
    if not match:
        raise InvalidInput(f"--expires: {value!r} is not a duration like 30d, 12h or 15m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    user: Annotated[str | None, typer.Option(help="Act as this user (its role bindings).")] = None,
    project: Annotated[str | None, typer.Option(help="Limit the token to one project.")] = None,
    role: Annotated[str | None, typer.Option(help="Fixed role in --project (viewer..admin).")] = None,
    expires: Annotated[str | None, typer.Option(help="Lifetime, e.g. 30d, 12h, 15m.")] = None,
    service: Annotated[
        bool, typer.Option("--service", help="A service token (pipelines, deployments).")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a token; its secret is printed once. Without options: admin of the workspace's project."""
    from shipyard.workspace import Workspace

    with handled(as_json):  # audited there, like every state-changing command
        ws = Workspace.open(workspace)
        lifetime = parse_duration(expires) if expires else None
        issued = ws.tokens.create(
            name, user=user, project=project, role=role, expires_in=lifetime, service=service
        )
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

    with handled(as_json):  # audited there, like every state-changing command
        ws = Workspace.open(workspace)
        ws.tokens.revoke(prefix)
        emit({"revoked": prefix}, as_json, lambda r: f"revoked {r['revoked']}")
