"""The sync sources: what Feast, MLflow, pipelines, deployments and the monitor know, as catalog assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.catalog.records import (
    BUILT_FROM,
    DERIVED_FROM,
    MONITORS,
    PART_OF,
    PRODUCED_BY,
    SERVES,
    USES,
    VERSION_OF,
    as_utc,
)
from shipyard.catalog.writes import AssetSpec
from shipyard.errors import NotFound, OperationFailed

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

_MAX_RUNS = 500


class SourceSkipped(Exception):  # noqa: N818 - a signal, not an error: the source is not configured here
    """The source is not set up in this workspace (no feature repo, no MLflow database yet)."""


@dataclass
class SourceOutcome:
    """Assets a source sees, edges it owns (``(kind, name) -> [(dst_kind, dst_name, relation)]``)."""

    specs: list[AssetSpec] = field(default_factory=list)
    edges: dict[tuple[str, str], list[tuple[str, str, str]]] = field(default_factory=dict)
    extra: int = 0  # assets written through another path (Feast's own catalog mirror)


# -- Feast ------------------------------------------------------------------------------------------------
def feast_assets(ws: Workspace) -> SourceOutcome:
    """Feature views and features (through features.describe's mirror) plus their source tables."""
    from shipyard.features.describe import register_in_catalog
    from shipyard.features.stats import source_path

    if not (ws.features.repo_dir / "feature_store.yaml").is_file():
        raise SourceSkipped(f"no Feast repository at {ws.features.repo_dir}")
    try:
        store = ws.features.store
    except NotFound as exc:
        raise SourceSkipped(exc.message) from exc
    views = store.list_feature_views(allow_cache=False)
    register_in_catalog(
        views,
        ws.catalog,
        ws.features.repo_dir,
        entities=store.list_entities(allow_cache=True),
        services=store.list_feature_services(),
    )
    tables = {
        t.source: t.name
        for t in ws.catalog.list(kinds=["table"])
        if t.source and t.attributes.get("catalog_source") != "feast"
    }
    out = SourceOutcome(extra=sum(1 + len(v.features) for v in views))
    for view in views:
        batch = view.batch_source
        path = source_path(view, ws.features.repo_dir)
        location = str(path) if path is not None else str(getattr(batch, "path", "") or "")
        table = _registered_table(tables, location, ws.root)
        if table is None and batch is not None:
            table = str(batch.name)
            out.specs.append(_source_table(table, location, batch, path))
        if table is None:
            continue
        out.edges[("feature_view", view.name)] = [("table", table, DERIVED_FROM)]
        for f in view.features:
            out.edges[("feature", f"{view.name}:{f.name}")] = [("table", table, DERIVED_FROM)]
    return out


def _registered_table(tables: dict[str, str], location: str, root: Path) -> str | None:
    """A table someone registered whose ``source`` is this file (absolute or workspace-relative)."""
    if not location:
        return None
    for source, name in tables.items():
        candidate = Path(source) if Path(source).is_absolute() else root / source
        if source == location or str(candidate.resolve()) == str(Path(location).resolve()):
            return name
    return None


def _source_table(name: str, location: str, batch: Any, path: Path | None) -> AssetSpec:
    columns: list[dict[str, Any]] = []
    freshness = None
    if path is not None and path.is_file() and path.suffix == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        columns = [
            {"name": f.name, "type": str(f.type), "description": "", "sensitive": False} for f in schema
        ]
        freshness = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return AssetSpec(
        kind="table",
        name=name,
        title=name.replace("_", " "),
        description=str(getattr(batch, "description", "") or ""),
        owner=str(getattr(batch, "owner", "") or ""),
        tags=["feast-source"],
        source=location,
        columns=columns,
        freshness=freshness,
    )


# -- MLflow -----------------------------------------------------------------------------------------------
def mlflow_assets(ws: Workspace) -> SourceOutcome:
    """Experiments, runs (params, metrics), registered models with aliases, versions with lineage tags."""
    registry = ws.registry
    uri = registry.tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise SourceSkipped(f"no MLflow database at {uri} yet (nothing has been tracked)")
    client = registry.client
    out = SourceOutcome()
    runs: dict[str, Any] = {}
    for exp in client.search_experiments():
        out.specs.append(
            AssetSpec(
                kind="experiment",
                name=exp.name,
                title=exp.name,
                description=str((exp.tags or {}).get("mlflow.note.content", "")),
                source=str(exp.artifact_location or ""),
                attributes={"experiment_id": exp.experiment_id},
                freshness=_ms(exp.last_update_time),
            )
        )
        for run in client.search_runs(
            [exp.experiment_id], max_results=_MAX_RUNS, order_by=["start_time DESC"]
        ):
            runs[run.info.run_id] = run
            out.specs.append(_run_spec(exp.name, run))
    for rm in _all(lambda token: client.search_registered_models(max_results=200, page_token=token)):
        escaped = rm.name.replace("'", "\\'")
        versions = _all(
            lambda token, n=escaped: client.search_model_versions(
                f"name = '{n}'", max_results=200, page_token=token
            )
        )
        aliases = {str(a): str(v) for a, v in (rm.aliases or {}).items()}
        latest_refs: list[str] = []
        for mv in sorted(versions, key=lambda v: int(v.version)):
            spec = _version_spec(rm.name, mv, aliases, runs.get(str(mv.run_id)))
            latest_refs = spec.attributes["feature_refs"]
            out.specs.append(spec)
        out.specs.append(
            AssetSpec(
                kind="model",
                name=rm.name,
                title=rm.name,
                description=str(rm.description or ""),
                tags=[f"alias:{a}" for a in sorted(aliases)],
                attributes={"aliases": aliases, "versions": len(versions)},
                freshness=_ms(rm.last_updated_timestamp),
                lineage=[("feature", ref, USES) for ref in latest_refs],
            )
        )
    return out


def _all(fetch: Any) -> list[Any]:
    items: list[Any] = []
    token = None
    while True:
        page = fetch(token)
        items.extend(page)
        token = page.token
        if not token:
            return items


def _run_spec(experiment: str, run: Any) -> AssetSpec:
    data, info = run.data, run.info
    metrics = {k: float(v) for k, v in (data.metrics or {}).items()}
    shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())[:8])
    tags = dict(data.tags or {})
    return AssetSpec(
        kind="run",
        name=info.run_id,
        title=str(info.run_name or info.run_id),
        description=f"Run {info.run_name or info.run_id} of experiment {experiment} ({info.status})"
        + (f": {shown}" if shown else ""),
        owner=str(tags.get("mlflow.user", "")),
        source=str(info.artifact_uri or ""),
        attributes={
            "experiment": experiment,
            "status": info.status,
            "params": dict(data.params or {}),
            "metrics": metrics,
            "tags": {k: v for k, v in tags.items() if k.startswith("shipyard.") or k == "mlflow.runName"},
        },
        freshness=_ms(info.end_time or info.start_time),
        lineage=[("experiment", experiment, PART_OF)],
    )


def _version_spec(model: str, mv: Any, aliases: dict[str, str], run: Any) -> AssetSpec:
    from shipyard.registry import lineage
    from shipyard.registry.models import TAG_FEATURE_COLUMNS, TAG_FEATURE_REFS, TAG_TARGET, load_list

    tags = dict(mv.tags or {})
    refs = load_list(tags.get(TAG_FEATURE_REFS))
    mine = sorted(a for a, v in aliases.items() if v == str(mv.version))
    metrics = {k: float(v) for k, v in (run.data.metrics or {}).items()} if run is not None else {}
    edges = [("model", model, VERSION_OF)] + [("feature", r, USES) for r in refs]
    if mv.run_id:
        edges.append(("run", str(mv.run_id), PRODUCED_BY))
    notebook = tags.get(lineage.TAG_NOTEBOOK_PATH, lineage.UNKNOWN)
    if notebook != lineage.UNKNOWN:
        edges.append(("notebook", notebook, "trained_in"))
    if tags.get(lineage.TAG_PIPELINE):
        edges.append(("pipeline", tags[lineage.TAG_PIPELINE], "trained_by"))
    shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())[:8])
    return AssetSpec(
        kind="model_version",
        name=f"{model}@{mv.version}",
        title=f"{model} v{mv.version}" + (f" ({', '.join(mine)})" if mine else ""),
        description=str(mv.description or "")
        or f"Version {mv.version} of model {model}" + (f"; {shown}" if shown else ""),
        tags=[f"alias:{a}" for a in mine],
        source=str(mv.source or ""),
        attributes={
            "model": model,
            "version": str(mv.version),
            "aliases": mine,
            "run_id": str(mv.run_id or ""),
            "metrics": metrics,
            "feature_refs": refs,
            "feature_columns": load_list(tags.get(TAG_FEATURE_COLUMNS)),
            "target": tags.get(TAG_TARGET, ""),
            "lineage_tags": {k: v for k, v in tags.items() if k in _lineage_tags()},
        },
        freshness=_ms(mv.last_updated_timestamp or mv.creation_timestamp),
        lineage=edges,
    )


def _lineage_tags() -> set[str]:
    from shipyard.registry import lineage

    return {
        lineage.TAG_NOTEBOOK,
        lineage.TAG_NOTEBOOK_PATH,
        lineage.TAG_FRAME,
        lineage.TAG_CONFIG,
        lineage.TAG_PIPELINE,
        lineage.TAG_PIPELINE_RUN,
        lineage.TAG_STEP,
    }


def _ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value) / 1000, UTC) if value else None


# -- pipelines, deployments, monitor ------------------------------------------------------------------------
def pipeline_assets(ws: Workspace) -> SourceOutcome:
    """Promoted pipelines, their steps and the notebook each was built from."""
    out = SourceOutcome()
    for name in ws.pipelines.list_pipelines():
        try:
            spec = ws.pipelines.spec(name)
        except ValueError as exc:
            where = ws.pipelines.pipelines_dir / name / "pipeline.json"
            raise OperationFailed(
                f"{where} is not readable ({exc}); promote pipeline {name!r} again"
            ) from exc
        notebook = str((spec.get("source") or {}).get("path") or "")
        steps = [str(s.get("name")) for s in spec.get("steps") or []]
        runs = ws.pipelines.list_runs(name, limit=1)
        created = spec.get("created_at")
        out.specs.append(
            AssetSpec(
                kind="pipeline",
                name=name,
                title=name.replace("_", " "),
                description=f"Pipeline promoted from {notebook or 'a notebook'}; steps: {' -> '.join(steps)}",
                source=str(ws.pipelines.pipelines_dir / name),
                attributes={
                    "steps": steps,
                    "parameters": spec.get("parameters") or {},
                    "last_run": {"run_id": runs[0].run_id, "status": runs[0].status} if runs else None,
                },
                freshness=datetime.fromisoformat(created) if isinstance(created, str) else None,
                lineage=[("notebook", notebook, BUILT_FROM)] if notebook else [],
            )
        )
    return out


def _deployment_rows(ws: Workspace) -> list[Any]:
    from sqlalchemy import select

    from shipyard.store.models import Deployment

    with ws.store.session() as s:
        return list(s.scalars(select(Deployment).where(Deployment.project == ws.project)))


def deployment_assets(ws: Workspace) -> SourceOutcome:
    """Deployments and the model version each serves."""
    out = SourceOutcome()
    for row in _deployment_rows(ws):
        version = f"{row.model_name}@{row.model_version}"
        out.specs.append(
            AssetSpec(
                kind="deployment",
                name=row.name,
                title=row.name,
                description=f"Serves model {row.model_name} v{row.model_version} on Triton as "
                f"{row.triton_model} ({row.status}); online features: {', '.join(row.feature_refs or []) or 'none'}",
                source=row.model_uri,
                attributes={
                    "model_name": row.model_name,
                    "model_version": row.model_version,
                    "status": row.status,
                    "triton_model": row.triton_model,
                    "feature_refs": list(row.feature_refs or []),
                    "entity_keys": list(row.entity_keys or []),
                },
                freshness=as_utc(row.updated_at),
                lineage=[("model_version", version, SERVES)],
            )
        )
    return out


def monitor_assets(ws: Workspace) -> SourceOutcome:
    """The latest monitoring state of each deployment: drifted features, latency, open alerts."""
    from shipyard.monitor.alerts import MonitorState, load_json_model

    out = SourceOutcome()
    for row in _deployment_rows(ws):
        path = ws.monitor.monitor_dir(row.name) / "state.json"
        if not path.is_file():
            continue
        state = load_json_model(path, MonitorState, "monitor state")
        last = state.windows[-1] if state.windows else {}
        drifted = list(last.get("drifted") or [])
        p95 = (last.get("latency") or {}).get("p95_ms")
        summary = [
            f"Monitoring of deployment {row.name}: {len(state.windows)} window(s) checked",
            f"drifted features in the latest window: {', '.join(drifted) or 'none'}",
        ]
        if p95 is not None:
            summary.append(f"p95 latency {float(p95):.1f} ms")
        if state.open_alerts:
            summary.append(f"open alerts: {', '.join(state.open_alerts)}")
        out.specs.append(
            AssetSpec(
                kind="monitor_result",
                name=row.name,
                title=f"monitoring of {row.name}",
                description="; ".join(summary),
                tags=["drift"] if drifted else [],
                source=str(path),
                attributes={
                    "deployment": row.name,
                    "model_version": f"{row.model_name}@{row.model_version}",
                    "latest_window": last,
                    "windows": len(state.windows),
                    "open_alerts": list(state.open_alerts),
                    "drifted": drifted,
                },
                freshness=as_utc(state.last_ts),
                lineage=[("deployment", row.name, MONITORS)],
            )
        )
    return out
