"""``shipyard access ...``: users, projects, role bindings, column grants and mask policies.

Every change is audited by ``cli.common.handled`` (the one mechanism for all state-changing commands).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

if TYPE_CHECKING:
    from shipyard.governance.access import AccessService

app = typer.Typer(help="Users, projects, roles, grants and masking.", no_args_is_help=True)
ProjectOpt = Annotated[str | None, typer.Option("--project", help="Project (default: the workspace's).")]


def _run(
    workspace: Path | None,
    as_json: bool,
    project: str | None,
    work: Callable[[AccessService, str], Any],
    render: Callable[[Any], str],
) -> None:
    """Open the workspace, call ``work(access, project)`` and print its result (errors -> exit codes)."""
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        emit(work(governance_for(ws).access, project or ws.project), as_json, render)


@app.command("user-add")
def user_add(
    name: str,
    service: Annotated[bool, typer.Option("--service", help="A service account.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user (or service account)."""
    _run(
        workspace,
        as_json,
        None,
        lambda a, _: {"user": a.add_user(name, service=service)},
        lambda r: f"added {r['user']}",
    )


@app.command("user-disable")
def user_disable(name: str, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Disable a user; its tokens stop working on the next request."""

    def work(access: AccessService, _: str) -> Any:
        access.disable_user(name)
        return {"disabled": name}

    _run(workspace, as_json, None, work, lambda r: f"disabled {r['disabled']}")


@app.command("users")
def users(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List users."""
    _run(
        workspace,
        as_json,
        None,
        lambda a, _: a.users(),
        lambda rs: "\n".join(f"{r['name']}  {r['kind']}" for r in rs),
    )


@app.command("projects")
def projects(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List projects."""
    _run(workspace, as_json, None, lambda a, _: a.projects(), "\n".join)


@app.command("bind")
def bind(
    user: str,
    role: Annotated[str, typer.Argument(help="viewer, scientist, maintainer or admin")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give USER ROLE in a project (replacing its previous role there)."""
    _run(
        workspace,
        as_json,
        project,
        lambda a, proj: a.bind(user, proj, role),
        lambda b: f"{b.user} is {b.role} in {b.project}",
    )


@app.command("unbind")
def unbind(
    user: str, project: ProjectOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """Remove USER's role in a project."""

    def work(access: AccessService, proj: str) -> Any:
        access.unbind(user, proj)
        return {"user": user, "project": proj}

    _run(workspace, as_json, project, work, lambda r: f"{r['user']} has no role in {r['project']}")


@app.command("bindings")
def bindings(project: ProjectOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List role bindings."""
    _run(
        workspace,
        as_json,
        project,
        lambda a, _: a.bindings(project),
        lambda bs: "\n".join(f"{b.project}  {b.user}  {b.role}" for b in bs),
    )


@app.command("grant")
def grant(
    user: str,
    column: Annotated[str, typer.Argument(help="ASSET.COLUMN or ASSET:COLUMN; ASSET:* for every column")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Let USER read the unmasked values of a sensitive column."""

    def work(access: AccessService, proj: str) -> Any:
        from shipyard.errors import InvalidInput
        from shipyard.governance.service import cli_actor

        sep = ":" if ":" in column else "."
        asset, _, col = column.rpartition(sep)
        if not asset or not col:
            raise InvalidInput(f"column: {column!r} is not ASSET:COLUMN (or ASSET.COLUMN)")
        return access.grant(user, proj, asset, col, by=cli_actor())

    _run(
        workspace,
        as_json,
        project,
        work,
        lambda g: f"{g.user} may read {g.asset}:{g.column} in {g.project}",
    )


@app.command("mask-tag")
def mask_tag(
    tag: str,
    method: Annotated[str, typer.Argument(help="null, hash or partial")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mask every column of assets carrying TAG with METHOD."""

    def work(access: AccessService, proj: str) -> Any:
        from shipyard.governance.masking import invalidate

        access.set_mask_policy(proj, tag, method)
        invalidate()
        return {"tag": tag, "method": method, "project": proj}

    _run(workspace, as_json, project, work, lambda r: f"tag {r['tag']}: {r['method']}")
