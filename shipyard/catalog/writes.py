"""Writing assets inside one store transaction: the row, its column assets, its lineage edges, tombstones.

Every writer (``upsert``, ``register``, the sync sources, the dbt/SQL connectors) goes through
``AssetWriter``, so columns always become ``column`` assets with a ``part_of`` edge and a removed asset always
leaves a tombstone. Only what changed is written: an identical re-write issues no UPDATE (``updated_at``
stays, so incremental indexers skip it). A ``bulk`` writer loads the project's assets, edges and tombstones
once, which turns thousands of per-asset queries into one read and the changed rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from shipyard.catalog.records import PART_OF, as_utc
from shipyard.store.models import Asset, AssetEdge, AssetTombstone

Key = tuple[str, str]
Edge = tuple[str, str, str]  # (dst_kind, dst_name, relation)


@dataclass
class AssetSpec:
    """What a writer says about one asset; ``lineage`` is ``[(dst_kind, dst_name, relation), ...]``."""

    kind: str
    name: str
    title: str = ""
    description: str = ""
    owner: str = ""
    tags: list[str] = field(default_factory=list)
    source: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    columns: list[dict[str, Any]] = field(default_factory=list)
    freshness: datetime | None = None
    description_status: str | None = None
    lineage: list[Edge] = field(default_factory=list)


class AssetWriter:
    """Writes assets of one project in the session ``s``; ``bulk`` preloads the project's catalog."""

    def __init__(self, s: Session, project: str, bulk: bool = False) -> None:
        self.s, self.project, self.bulk = s, project, bulk
        self._rows: dict[Key, Asset] = {}
        self._edges: dict[Key, dict[str, dict[Edge, AssetEdge]]] = {}
        self._parts: dict[str, set[str]] = {}  # table -> its column asset names
        self._stones: dict[Key, AssetTombstone] = {}
        if bulk:
            self._preload()

    def _preload(self) -> None:
        s, project = self.s, self.project
        self._rows = {(r.kind, r.name): r for r in s.scalars(select(Asset).where(Asset.project == project))}
        for e in s.scalars(select(AssetEdge).where(AssetEdge.project == project)):
            self._edges.setdefault((e.src_kind, e.src_name), {}).setdefault(e.origin, {})[_edge(e)] = e
            self._track_part(e, add=True)
        self._stones = {
            (t.kind, t.name): t
            for t in s.scalars(select(AssetTombstone).where(AssetTombstone.project == project))
        }

    # -- lookups (cached in bulk mode, queried otherwise) ----------------------------------------------
    def _row(self, kind: str, name: str) -> Asset | None:
        if self.bulk:
            return self._rows.get((kind, name))
        return self.s.scalars(
            select(Asset).where(Asset.project == self.project, Asset.kind == kind, Asset.name == name)
        ).one_or_none()

    def _origins(self, kind: str, name: str) -> dict[str, dict[Edge, AssetEdge]]:
        if self.bulk:
            return self._edges.setdefault((kind, name), {})
        found: dict[str, dict[Edge, AssetEdge]] = {}
        query = select(AssetEdge).where(
            AssetEdge.project == self.project, AssetEdge.src_kind == kind, AssetEdge.src_name == name
        )
        for e in self.s.scalars(query):
            found.setdefault(e.origin, {})[_edge(e)] = e
        return found

    def _stone(self, kind: str, name: str) -> AssetTombstone | None:
        if self.bulk:
            return self._stones.get((kind, name))
        return self.s.scalars(
            select(AssetTombstone).where(
                AssetTombstone.project == self.project,
                AssetTombstone.kind == kind,
                AssetTombstone.name == name,
            )
        ).one_or_none()

    def column_names(self, table: str) -> set[str]:
        """Names of the column assets that are ``part_of`` ``table``."""
        if self.bulk:
            return set(self._parts.get(table, set()))
        return set(
            self.s.scalars(
                select(AssetEdge.src_name).where(
                    and_(
                        AssetEdge.project == self.project,
                        AssetEdge.src_kind == "column",
                        AssetEdge.dst_kind == "table",
                        AssetEdge.dst_name == table,
                        AssetEdge.relation == PART_OF,
                    )
                )
            )
        )

    def _track_part(self, e: AssetEdge, add: bool) -> None:
        if e.src_kind == "column" and e.dst_kind == "table" and e.relation == PART_OF:
            names = self._parts.setdefault(e.dst_name, set())
            if add:
                names.add(e.src_name)
            else:
                names.discard(e.src_name)

    # -- writes ---------------------------------------------------------------------------------------
    def write(self, spec: AssetSpec) -> tuple[Asset, bool]:
        """Create or replace ``spec``; returns the row and whether it was new."""
        row = self._row(spec.kind, spec.name)
        created = row is None
        if row is None:
            row = Asset(project=self.project, kind=spec.kind, name=spec.name)
            self.s.add(row)
            self._rows[(spec.kind, spec.name)] = row
        description, status = spec.description, spec.description_status
        if not description and row.description and row.description_status in ("draft", "accepted"):
            # A source that has no description (Feast, MLflow) must not erase a drafted or accepted one.
            description, status = row.description, row.description_status
        attributes = dict(spec.attributes)
        if spec.lineage and "lineage" not in attributes:
            attributes["lineage"] = [{"kind": k, "name": n, "relation": r} for k, n, r in spec.lineage]
        values: dict[str, Any] = {
            "title": spec.title,
            "description": description,
            "owner": spec.owner,
            "tags": list(spec.tags),
            "source": spec.source,
            "attributes": attributes,
            "columns": [dict(c) for c in spec.columns],
            "description_status": status if status is not None else "",
        }
        # Assign only what changed, so an identical re-write does not bump updated_at.
        for key, value in values.items():
            if created or getattr(row, key) != value:
                setattr(row, key, value)
        if created or as_utc(row.freshness) != as_utc(spec.freshness):
            row.freshness = spec.freshness
        stone = self._stone(spec.kind, spec.name)
        if stone is not None:
            self.s.delete(stone)
            self._stones.pop((spec.kind, spec.name), None)
            self.s.flush()  # a later delete() of this asset re-inserts the same tombstone key
        self.set_edges(spec.kind, spec.name, _declared_edges(spec, attributes), origin="")
        if spec.kind == "table":
            self._write_columns(spec)
        return row, created

    def _write_columns(self, table: AssetSpec) -> None:
        keep = set()
        for col in table.columns:
            name = f"{table.name}.{col['name']}"
            keep.add(name)
            sensitive = bool(col.get("sensitive", False))
            self.write(
                AssetSpec(
                    kind="column",
                    name=name,
                    title=str(col["name"]),
                    description=str(col.get("description") or ""),
                    owner=table.owner,
                    tags=[*table.tags, *(["sensitive"] if sensitive else [])],
                    source=table.source,
                    attributes={
                        "table": table.name,
                        "type": str(col.get("type") or ""),
                        "sensitive": sensitive,
                        **({"mask": col["mask"]} if col.get("mask") else {}),
                    },
                    freshness=table.freshness,
                    lineage=[("table", table.name, PART_OF)],
                )
            )
        for stale in self.column_names(table.name) - keep:
            self.delete("column", stale)

    def set_edges(self, kind: str, name: str, edges: list[Edge], origin: str) -> None:
        """Make the outgoing edges ``origin`` owns on ``(kind, name)`` exactly ``edges``."""
        origins = self._origins(kind, name)
        have = origins.setdefault(origin, {})
        want = dict.fromkeys(edges)
        for edge in [e for e in have if e not in want]:
            obj = have.pop(edge)
            self._track_part(obj, add=False)
            self.s.delete(obj)
        for edge in want:
            if edge not in have:
                obj = AssetEdge(
                    project=self.project,
                    src_kind=kind,
                    src_name=name,
                    dst_kind=edge[0],
                    dst_name=edge[1],
                    relation=edge[2],
                    origin=origin,
                )
                self.s.add(obj)
                have[edge] = obj
                self._track_part(obj, add=True)

    def delete(self, kind: str, name: str) -> bool:
        """Delete an asset, its outgoing edges and (a table) its columns; leave a tombstone. True if it existed."""
        row = self._row(kind, name)
        if row is None:
            return False
        self.s.delete(row)
        self._rows.pop((kind, name), None)
        if kind == "table":
            for column in self.column_names(name):
                self.delete("column", column)
        for origin in list(self._origins(kind, name)):
            self.set_edges(kind, name, [], origin)
        stone = self._stone(kind, name)
        if stone is None:
            stone = AssetTombstone(project=self.project, kind=kind, name=name)
            self.s.add(stone)
            self._stones[(kind, name)] = stone
        stone.removed_at = datetime.now(UTC)
        # The unique constraints need the DELETEs of this asset before any re-insert in the same session.
        self.s.flush()
        return True


def _edge(e: AssetEdge) -> Edge:
    return (e.dst_kind, e.dst_name, e.relation)


def _declared_edges(spec: AssetSpec, attributes: dict[str, Any]) -> list[Edge]:
    edges = list(spec.lineage)
    # Older writers (shipyard.features.describe) declare lineage only in attributes["lineage"].
    for item in attributes.get("lineage") or []:
        if isinstance(item, dict) and item.get("kind") and item.get("name"):
            edge = (str(item["kind"]), str(item["name"]), str(item.get("relation") or "related_to"))
            if edge not in edges:
                edges.append(edge)
    return edges


def edges_touching(s: Session, project: str | None, kind: str, name: str, outgoing: bool) -> list[AssetEdge]:
    """Edges leaving (``outgoing``) or entering ``(kind, name)``."""
    cond = (
        and_(AssetEdge.src_kind == kind, AssetEdge.src_name == name)
        if outgoing
        else and_(AssetEdge.dst_kind == kind, AssetEdge.dst_name == name)
    )
    query = select(AssetEdge).where(cond)
    if project is not None:
        query = query.where(AssetEdge.project == project)
    return list(s.scalars(query.order_by(AssetEdge.id)))
