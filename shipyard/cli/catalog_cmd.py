"""``shipyard catalog``: register, sync, import, search, show, lineage, enrich and accept catalog assets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, log

app = typer.Typer(
    help="The data catalog: tables, columns, features, models and their lineage.", no_args_is_help=True
)

KindOpt = Annotated[str | None, typer.Option("--kind", "-k", help="Only assets of this kind, e.g. table.")]
ProjectOpt = Annotated[
    str | None, typer.Option("--project", help="Project (default: the workspace's project).")
]


@app.command("register")
def register(
    file: Annotated[Path, typer.Argument(help="JSON Lines file, one asset a line (see docs/catalog.md).")],
    partial: Annotated[
        bool, typer.Option("--partial", help="Register the good lines even when some are bad.")
    ] = False,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create or update assets from FILE; without --partial, one bad line means nothing is written."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).catalog.register_file(file, partial=partial, project=project)
        for e in result.errors:
            log(f"skipped line {e.line}: {e.message}")
        emit(result, as_json, _render_counts)


@app.command("sync")
def sync(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="feast, mlflow, pipelines, deployments or monitor (repeat)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mirror Feast, MLflow, pipelines, deployments and monitor results into the catalog."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        report = Workspace.open(workspace).catalog.sync(source or None)
        emit(report, as_json, _render_sync)
    if not report.ok:
        raise typer.Exit(1)


@app.command("import-dbt")
def import_dbt(
    manifest: Annotated[Path, typer.Argument(help="dbt's target/manifest.json.")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Models, seeds, snapshots and sources of a dbt project, with columns, descriptions and lineage."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        emit(Workspace.open(workspace).catalog.import_dbt(manifest, project), as_json, _render_counts)


@app.command("import-sql")
def import_sql(
    url: Annotated[str, typer.Argument(help="SQLAlchemy URL, e.g. sqlite:///warehouse.db.")],
    schema: Annotated[
        str | None, typer.Option("--schema", help="Schema to read (default: the default).")
    ] = None,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tables and views of a database: columns, types, and comments as descriptions."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        emit(Workspace.open(workspace).catalog.import_sql(url, schema, project), as_json, _render_counts)


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Words to look for in names, descriptions, tags, columns.")],
    kind: KindOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many hits.")] = 20,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assets matching QUERY, best first."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        hits = Workspace.open(workspace).catalog.search(query, [kind] if kind else None, project, limit)
        emit(
            {"assets": [{**_asset_json(h.asset), "score": h.score} for h in hits]},
            as_json,
            lambda r: (
                "\n".join(f"{a['kind']:<14} {a['name']}  {a['description'][:80]}" for a in r["assets"])
                or "no match"
            ),
        )


@app.command("show")
def show(
    kind: Annotated[str, typer.Argument(help="Asset kind, e.g. table.")],
    name: Annotated[str, typer.Argument(help="Asset name, e.g. sales.transactions_clean.")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One asset with its columns and direct lineage."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        cat = Workspace.open(workspace).catalog
        asset = cat.get(kind, name, project)
        edges = cat.lineage(kind, name, project, depth=1)
        emit({**_asset_json(asset), "lineage": edges}, as_json, _render_asset)


@app.command("lineage")
def lineage(
    kind: Annotated[str, typer.Argument(help="Asset kind.")],
    name: Annotated[str, typer.Argument(help="Asset name.")],
    direction: Annotated[
        str, typer.Option(help="up (what it comes from), down (what uses it) or both.")
    ] = "both",
    depth: Annotated[int, typer.Option(min=1, max=10, help="How many hops to follow.")] = 3,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lineage edges around an asset."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        edges = Workspace.open(workspace).catalog.lineage(kind, name, project, direction, depth)
        emit(
            {"edges": edges},
            as_json,
            lambda r: (
                "\n".join(
                    f"{e.src_kind}:{e.src_name} --{e.relation}--> {e.dst_kind}:{e.dst_name}"
                    for e in r["edges"]
                )
                or "no lineage"
            ),
        )


@app.command("enrich")
def enrich(
    kind: KindOpt = None,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft descriptions for undocumented assets (marked draft until accepted)."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).catalog.enrich([kind] if kind else None, project)
        emit(
            result,
            as_json,
            lambda r: (
                "\n".join([f"{d.kind} {d.name}: {d.description}" for d in r.drafted]) or "nothing to draft"
            ),
        )


@app.command("accept")
def accept(
    kind: Annotated[str, typer.Argument(help="Asset kind.")],
    name: Annotated[str, typer.Argument(help="Asset name.")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept the drafted description of an asset."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        asset = Workspace.open(workspace).catalog.accept(kind, name, project)
        emit(_asset_json(asset), as_json, lambda a: f"accepted: {a['kind']} {a['name']}: {a['description']}")


def _asset_json(asset: Any) -> dict[str, Any]:
    from shipyard.cli.common import to_jsonable

    out: dict[str, Any] = to_jsonable(asset)
    return out


def _render_counts(r: Any) -> str:
    lines = [f"{r.created} created, {r.updated} updated, {r.columns} column(s) ({r.source})"]
    lines += [f"  line {e.line}: {e.message}" for e in r.errors]
    return "\n".join(lines)


def _render_sync(r: Any) -> str:
    return "\n".join(
        f"{s.source:<12} {s.status:<8} {s.assets} asset(s), {s.removed} removed  {s.message}"
        for s in r.sources
    )


def _render_asset(a: dict[str, Any]) -> str:
    lines = [f"{a['kind']} {a['name']}  (project {a['project']}, owner {a['owner'] or '-'})"]
    if a["title"]:
        lines.append(a["title"])
    status = f" [{a['description_status']}]" if a["description_status"] else ""
    lines.append((a["description"] or "(no description)") + status)
    lines.append(f"freshness: {a['freshness'] or 'unknown'}   source: {a['source'] or '-'}")
    for c in a["columns"]:
        flag = "  [sensitive]" if c.get("sensitive") else ""
        lines.append(f"  {c['name']:<28} {c.get('type', ''):<10} {c.get('description', '')}{flag}")
    for e in a["lineage"]:
        lines.append(f"  {e.src_kind}:{e.src_name} --{e.relation}--> {e.dst_kind}:{e.dst_name}")
    return "\n".join(lines)
