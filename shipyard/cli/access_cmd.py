"""``shipyard access ...``: users, projects, role bindings, column grants and mask policies (all audited)."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

app = typer.Typer(help="Users, projects, roles, grants and masking.", no_args_is_help=True)
ProjectOpt = Annotated[str | None, typer.Option("--project", help="Project (default: the workspace's).")]


@app.command("user-add")
def user_add(
    name: str,
    service: Annotated[bool, typer.Option("--service", help="A service account.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user (or service account)."""
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        gov = governance_for(ws)
        gov.record_change(cli_actor(), "access.user_add", ws.project, name, {"service": service})
        emit({"user": gov.access.add_user(name, service=service)}, as_json, lambda r: f"added {r['user']}")


@app.command("user-disable")
def user_disable(name: str, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Disable a user; its tokens stop working on the next request."""
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        gov = governance_for(ws)
        gov.record_change(cli_actor(), "access.user_disable", ws.project, name)
        gov.access.disable_user(name)
        emit({"disabled": name}, as_json, lambda r: f"disabled {r['disabled']}")


@app.command("users")
def users(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List users."""
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        rows = governance_for(Workspace.open(workspace)).access.users()
        emit(rows, as_json, lambda rs: "\n".join(f"{r['name']}  {r['kind']}" for r in rs))


@app.command("projects")
def projects(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List projects."""
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        names = governance_for(Workspace.open(workspace)).access.projects()
        emit(names, as_json, lambda ns: "\n".join(ns))


@app.command("bind")
def bind(
    user: str,
    role: Annotated[str, typer.Argument(help="viewer, scientist, maintainer or admin")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give USER ROLE in a project (replacing its previous role there)."""
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        gov = governance_for(ws)
        proj = project or ws.project
        gov.record_change(cli_actor(), "access.bind", proj, user, {"role": role})
        emit(gov.access.bind(user, proj, role), as_json, lambda b: f"{b.user} is {b.role} in {b.project}")


@app.command("unbind")
def unbind(
    user: str, project: ProjectOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """Remove USER's role in a project."""
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        gov = governance_for(ws)
        proj = project or ws.project
        gov.record_change(cli_actor(), "access.unbind", proj, user)
        gov.access.unbind(user, proj)
        emit({"user": user, "project": proj}, as_json, lambda r: f"{r['user']} has no role in {r['project']}")


@app.command("bindings")
def bindings(project: ProjectOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List role bindings."""
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        rows = governance_for(Workspace.open(workspace)).access.bindings(project)
        emit(rows, as_json, lambda bs: "\n".join(f"{b.project}  {b.user}  {b.role}" for b in bs))


@app.command("grant")
def grant(
    user: str,
    column: Annotated[str, typer.Argument(help="ASSET.COLUMN or ASSET:COLUMN; ASSET:* for every column")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Let USER read the unmasked values of a sensitive column."""
    from shipyard.errors import InvalidInput
    from shipyard.governance.masking import invalidate
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        sep = ":" if ":" in column else "."
        asset, _, col = column.rpartition(sep)
        if not asset or not col:
            raise InvalidInput(f"column: {column!r} is not ASSET:COLUMN (or ASSET.COLUMN)")
        ws = Workspace.open(workspace)
        gov = governance_for(ws)
        proj = project or ws.project
        gov.record_change(cli_actor(), "access.grant", proj, f"{asset}:{col}", {"user": user})
        result = gov.access.grant(user, proj, asset, col, by=cli_actor())
        invalidate()
        emit(result, as_json, lambda g: f"{g.user} may read {g.asset}:{g.column} in {g.project}")


@app.command("mask-tag")
def mask_tag(
    tag: str,
    method: Annotated[str, typer.Argument(help="null, hash or partial")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mask every column of assets carrying TAG with METHOD."""
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        gov = governance_for(ws)
        proj = project or ws.project
        gov.record_change(cli_actor(), "access.mask_policy", proj, tag, {"method": method})
        gov.access.set_mask_policy(proj, tag, method)
        emit(
            {"tag": tag, "method": method, "project": proj},
            as_json,
            lambda r: f"tag {r['tag']}: {r['method']}",
        )
