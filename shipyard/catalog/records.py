"""The catalog's values: asset kinds, ``AssetRecord``, lineage edges, tombstones, search hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = (
    "table",
    "column",
    "dataset",
    "feature_view",
    "feature",
    "experiment",
    "run",
    "model",
    "model_version",
    "deployment",
    "pipeline",
    "monitor_result",
)
DESCRIPTION_STATUSES = ("", "draft", "accepted")

# The relations Shipyard writes itself; users may declare others (any short lowercase word).
PART_OF = "part_of"  # column -> table, run -> experiment, feature -> feature_view
DERIVED_FROM = "derived_from"  # feature / feature_view -> source table, dbt model -> its inputs
USES = "uses"  # model / model_version -> feature
SERVES = "serves"  # deployment -> model_version
BUILT_FROM = "built_from"  # pipeline -> notebook
MONITORS = "monitors"  # monitor_result -> deployment
VERSION_OF = "version_of"  # model_version -> model
PRODUCED_BY = "produced_by"  # model_version -> run


@dataclass(frozen=True)
class AssetRecord:
    """One catalog asset as the surfaces see it."""

    kind: str
    name: str
    project: str
    title: str = ""
    description: str = ""
    owner: str = ""
    tags: list[str] = field(default_factory=list)
    source: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    # Each {"name", "type", "description", "sensitive": bool}.
    columns: list[dict[str, Any]] = field(default_factory=list)
    freshness: datetime | None = None
    # "" written by a person, "draft" machine-drafted (``enrich``), "accepted" a draft a person accepted.
    description_status: str = ""
    id: int | None = None


@dataclass(frozen=True)
class LineageEdge:
    """``src`` --relation--> ``dst``; ``dst`` is upstream of ``src`` (what it is part of, uses, reads)."""

    src_kind: str
    src_name: str
    dst_kind: str
    dst_name: str
    relation: str


@dataclass(frozen=True)
class Tombstone:
    """An asset removed at ``removed_at``; an index drops its copy."""

    kind: str
    name: str
    project: str
    removed_at: datetime


@dataclass(frozen=True)
class SearchHit:
    """An asset and how well it matched the query."""

    asset: AssetRecord
    score: float


def as_utc(value: datetime | None) -> datetime | None:
    """Stored datetimes come back naive from SQLite; they were written in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_record(row: Any) -> AssetRecord:
    """A stored ``Asset`` row as an ``AssetRecord``."""
    return AssetRecord(
        kind=row.kind,
        name=row.name,
        project=row.project,
        title=row.title or "",
        description=row.description or "",
        owner=row.owner or "",
        tags=list(row.tags or []),
        source=row.source or "",
        attributes=dict(row.attributes or {}),
        updated_at=as_utc(row.updated_at),
        columns=[dict(c) for c in row.columns or []],
        freshness=as_utc(row.freshness),
        description_status=row.description_status or "",
        id=row.id,
    )
