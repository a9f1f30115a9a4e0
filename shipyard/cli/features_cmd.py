"""``shipyard features ...``: apply, materialize, list views, read online values, build a training frame."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, parse_pairs

app = typer.Typer(help="Feature store (Feast): apply, materialize, read.", no_args_is_help=True)


@app.command("apply")
def apply(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Apply the workspace's Feast repository (entities, feature views, feature services)."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).features.apply()
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
    """Load feature values into the online store."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).features.materialize(start, end)
        emit(result, as_json, lambda r: f"materialized {', '.join(r.feature_views)} in {r.duration_s:.1f}s")


@app.command("views")
def views(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List feature views and their features."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        result = Workspace.open(workspace).features.list_feature_views()
        emit(result, as_json, lambda vs: "\n".join(f"{v.name}: {', '.join(v.features)}" for v in vs))


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
        rows = [parse_pairs([e], "--entity") for e in entity]
        ws = Workspace.open(workspace)
        refs = list(feature or []) or ws.features.feature_refs(str(service))
        frame = ws.features.online_features(rows, refs)
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        emit({"rows": records}, as_json, lambda r: frame.to_string(index=False))


@app.command("training-frame")
def training_frame(
    entities: Annotated[Path, typer.Option(help="Parquet/CSV with entity keys and event_timestamp.")],
    service: Annotated[str, typer.Option(help="Feature service name.")],
    out: Annotated[Path, typer.Option(help="Where to write the training frame (.parquet).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point-in-time correct training frame from Feast, written to --out."""
    from shipyard.frames import read_frame, write_frame_atomic
    from shipyard.workspace import Workspace

    with handled(as_json):
        entity_df = read_frame(entities, "--entities")
        frame = Workspace.open(workspace).features.training_frame(entity_df, service)
        write_frame_atomic(frame, out, "--out")
        emit(
            {"path": str(out), "rows": len(frame), "columns": list(frame.columns)},
            as_json,
            lambda r: f"wrote {r['rows']} rows to {r['path']}",
        )
