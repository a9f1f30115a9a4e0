"""``shipyard features ...``: list, search, show, apply, materialize, get, frame (plus the older views/training-frame)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, parse_pairs

app = typer.Typer(help="Feature store (Feast): apply, materialize, read.", no_args_is_help=True)


@app.command("apply")
def apply(
    definition: Annotated[
        Path | None,
        typer.Argument(
            help="Optional Python file or YAML spec (.yaml/.yml, docs/features.md) of definitions to add."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name the definition is kept under.")] = None,
    plan: Annotated[bool, typer.Option("--plan", help="Only show Feast's plan; change nothing.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply the workspace's Feast repository, or add DEFINITION (Python file or YAML spec) to it and apply."""
    from shipyard.errors import InvalidInput
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        if definition is not None:
            if not definition.is_file():
                raise InvalidInput(f"DEFINITION {definition}: no such file")
            text = definition.read_text()
            if definition.suffix.lower() in {".yaml", ".yml"}:
                defined = ws.features.define_yaml(text, name, apply=not plan)
            else:
                defined = ws.features.define(text, name, apply=not plan)
            emit(defined, as_json, lambda r: f"{'applied' if r.applied else 'plan for'} {r.name}:\n{r.plan}")
            return
        if plan:
            raise InvalidInput("--plan needs a DEFINITION file")
        result = ws.features.apply()
        emit(
            result,
            as_json,
            lambda r: (
                f"applied {len(r.feature_views)} feature views, {len(r.feature_services)} feature services"
            ),
        )


@app.command("materialize")
def materialize(
    start: Annotated[datetime | None, typer.Option(help="Start of the range (default: incremental).")] = None,
    end: Annotated[datetime | None, typer.Option(help="End of the range (default: now).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load feature values into the online store, with a progress bar on stderr."""
    import sys

    from shipyard.workspace import Workspace

    with handled(as_json):
        features = Workspace.open(workspace).features
        bar: Any = None

        def progress(view: str, done: int, total: int) -> None:
            nonlocal bar
            if bar is None:  # stderr only: with --json, stdout carries exactly one document
                bar = typer.progressbar(length=total, label="materializing", file=sys.stderr, show_pos=True)
                bar.__enter__()
            bar.label = f"materialized {view}"
            bar.update(1)

        try:
            result = features.materialize(start, end, progress=progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        emit(result, as_json, lambda r: f"materialized {', '.join(r.feature_views)} in {r.duration_s:.1f}s")


@app.command("views")
def views(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List feature views and their features."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).features.list_feature_views()
        emit(result, as_json, lambda vs: "\n".join(f"{v.name}: {', '.join(v.features)}" for v in vs))


@app.command("list")
def list_views(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List feature views with owner, entities and features."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).features.list_feature_views()
        emit(
            result,
            as_json,
            lambda vs: "\n".join(f"{v.name} [{', '.join(v.entities)}]: {', '.join(v.features)}" for v in vs),
        )


@app.command("search")
def search(
    text: Annotated[
        list[str], typer.Argument(help="Words to look for in names, descriptions, owners, tags.")
    ],
    limit: Annotated[int, typer.Option(help="At most this many hits.")] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search feature views and features."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        hits = Workspace.open(workspace).features.search(" ".join(text), limit)
        emit(
            hits,
            as_json,
            lambda hs: (
                "\n".join(f"{h.kind:12} {h.name}  ({h.owner}) {h.description}" for h in hs) or "no matches"
            ),
        )


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Feature view (or view:feature).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Describe a feature view: schema, owner, source, TTL, freshness, offline stats, lineage."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        detail = Workspace.open(workspace).features.describe(name)
        emit(detail, as_json, _render_detail)


def _render_detail(d: Any) -> str:
    lines = [
        f"{d.name}: {d.description}",
        f"  owner {d.owner}; entities {', '.join(d.entities)}; ttl {d.ttl_s}s; online {d.online}; offline {d.offline}",
        f"  source {d.source}; last materialized {d.last_materialized or 'never'}",
        f"  feature services {', '.join(d.feature_services) or '-'}; checks {'; '.join(d.quality_checks) or '-'}",
    ]
    for f in d.features:
        s = f.stats
        stat = "" if s is None else f" count={s.count} nulls={s.nulls} min={s.min} max={s.max} mean={s.mean}"
        lines.append(f"  {f.name} ({f.dtype}) {f.description}{stat}")
    return "\n".join(lines)


@app.command("get")
def get(
    entity: Annotated[
        list[str], typer.Option("--entity", "-e", help="Entity key, e.g. customer_id=42 (repeat).")
    ],
    service: Annotated[str | None, typer.Option(help="Feature service name.")] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", "-f", help="view:feature (repeat).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Online feature values for one or more entities."""
    from shipyard.errors import InvalidInput
    from shipyard.workspace import Workspace

    with handled(as_json):
        if bool(service) == bool(feature):
            raise InvalidInput("give exactly one of --service or --feature")
        rows = [parse_pairs(e.split(","), "--entity") for e in entity]
        if not rows:
            raise InvalidInput("give at least one --entity KEY=VALUE")
        ws = Workspace.open(workspace)
        refs = list(feature or []) or ws.features.feature_refs(str(service))
        frame = ws.features.online_features(rows, refs)
        from shipyard.features.records import as_records

        records = as_records(frame)
        emit({"rows": records}, as_json, lambda r: frame.to_string(index=False))


@app.command("frame")
@app.command("training-frame")
def training_frame(
    entities: Annotated[Path, typer.Option(help="Parquet/CSV with entity keys and event_timestamp.")],
    out: Annotated[Path, typer.Option(help="Where to write the training frame (.parquet).")],
    service: Annotated[str | None, typer.Option(help="Feature service name.")] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", "-f", help="view:feature (repeat).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point-in-time correct training frame from Feast, written to --out."""
    from shipyard.errors import InvalidInput
    from shipyard.frames import read_frame, write_frame_atomic
    from shipyard.workspace import Workspace

    with handled(as_json):
        if bool(service) == bool(feature):
            raise InvalidInput("give exactly one of --service or --feature")
        entity_df = read_frame(entities, "--entities")
        ws = Workspace.open(workspace)
        refs = list(feature or []) or ws.features.feature_refs(str(service))
        from shipyard.governance.masking import mask_training_frame

        # Sensitive columns are written masked unless this OS user holds a grant (`shipyard access grant`).
        frame = mask_training_frame(ws, ws.features.training_frame(entity_df, service or refs), refs)
        write_frame_atomic(frame, out, "--out")
        emit(
            {"path": str(out), "rows": len(frame), "columns": list(frame.columns)},
            as_json,
            lambda r: f"wrote {r['rows']} rows to {r['path']}",
        )
