"""``catalog sync``: mirror what Shipyard's engines know into the catalog, one isolated source at a time.

Each source returns the assets it sees (``AssetSpec``) and the edges it owns; the writer tags every asset
with ``attributes["catalog_source"]``, writes them in one transaction per source and removes the assets that
source wrote before but no longer sees. A failing source is reported (``status="failed"`` with the error)
and the others still sync.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.catalog.sync_sources import (
    SourceOutcome,
    SourceSkipped,
    deployment_assets,
    feast_assets,
    mlflow_assets,
    monitor_assets,
    pipeline_assets,
)
from shipyard.catalog.writes import AssetWriter
from shipyard.errors import InvalidInput, ShipyardError

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

SOURCES: dict[str, Callable[[Workspace], SourceOutcome]] = {
    "feast": feast_assets,
    "mlflow": mlflow_assets,
    "pipelines": pipeline_assets,
    "deployments": deployment_assets,
    "monitor": monitor_assets,
}


@dataclass(frozen=True)
class SourceReport:
    """How one source synced: ``ok``, ``skipped`` (not configured) or ``failed`` (``message`` says why)."""

    source: str
    status: str
    assets: int = 0
    removed: int = 0
    message: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True)
class SyncReport:
    """Every source's report; ``ok`` is False when any source failed."""

    ok: bool
    sources: list[SourceReport] = field(default_factory=list)


def sync_sources(ws: Workspace, names: list[str] | None = None) -> SyncReport:
    """Sync ``names`` (all sources when None), each isolated from the others' failures."""
    for name in names or []:
        if name not in SOURCES:
            raise InvalidInput(f"unknown sync source {name!r}; use one of {', '.join(SOURCES)}")
    reports = []
    for name in names or list(SOURCES):
        started = time.perf_counter()
        try:
            outcome = SOURCES[name](ws)
            assets, removed = _write(ws, name, outcome)
            report = SourceReport(name, "ok", assets, removed)
        except SourceSkipped as skip:
            report = SourceReport(name, "skipped", message=str(skip))
        except ShipyardError as exc:
            report = SourceReport(name, "failed", message=exc.message)
        except Exception as exc:  # noqa: BLE001 - one broken engine must not stop the other sources
            report = SourceReport(name, "failed", message=f"{type(exc).__name__}: {exc}")
        reports.append(
            SourceReport(**{**report.__dict__, "duration_s": round(time.perf_counter() - started, 3)})
        )
    return SyncReport(ok=all(r.status != "failed" for r in reports), sources=reports)


def _write(ws: Workspace, source: str, outcome: SourceOutcome) -> tuple[int, int]:
    from sqlalchemy import select

    from shipyard.store.models import Asset

    project = ws.project
    seen = set()
    with ws.store.session() as s:
        writer = AssetWriter(s, project, bulk=True)
        for spec in outcome.specs:
            spec.attributes = {**spec.attributes, "catalog_source": source}
            writer.write(spec)
            seen.add((spec.kind, spec.name))
        removed = 0
        rows: list[Any] = list(s.scalars(select(Asset).where(Asset.project == project)))
        for row in rows:
            mine = (row.attributes or {}).get("catalog_source") == source
            if mine and (row.kind, row.name) not in seen:
                removed += int(writer.delete(row.kind, row.name))
        for (kind, name), edges in outcome.edges.items():
            writer.set_edges(kind, name, edges, origin=source)
    return len(outcome.specs) + outcome.extra, removed
