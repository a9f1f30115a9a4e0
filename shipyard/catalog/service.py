"""``ws.catalog``: assets, their columns and lineage edges in the metadata store, and the ways they get there.

Storage: ``assets`` rows (one per project + kind + name), ``asset_edges`` (lineage, ``src`` -> ``dst`` where
``dst`` is upstream: a column is ``part_of`` a table, a feature is ``derived_from`` a table, a model
``uses`` features, a deployment ``serves`` a model version, a pipeline is ``built_from`` a notebook, a
monitor result ``monitors`` a deployment). Each edge has an ``origin``: "" for edges the asset itself
declares (its ``lineage``/``attributes["lineage"]``, its columns), or the name of the sync source that
added it, so re-writing an asset never drops edges another writer owns.

Incremental indexing (the copilot's): ``list_changed(since)`` returns assets whose ``updated_at`` is after
``since`` (an upsert that changes nothing does not bump it), and deletions are **tombstones**: ``remove``
records ``(project, kind, name, removed_at)`` in ``asset_tombstones`` and ``removed_since(since)`` lists
them; re-creating an asset clears its tombstone. An indexer keeps the time it started its last pass and
asks for both, but only when ``generation()`` (one row every asset write or removal bumps, by trigger in
the writing transaction) moved since that pass, so an unchanged catalog costs one primary-key read.

Search is token scoring over name, title, description, tags, owner and column names, done in Python after
a coarse SQL ``LIKE`` prefilter (bound parameters only).
"""

from __future__ import annotations

import builtins
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.catalog.ingest import RegisterResult, register_documents
from shipyard.catalog.records import (
    KINDS,
    AssetRecord,
    LineageEdge,
    SearchHit,
    Tombstone,
    as_utc,
    to_record,
)
from shipyard.catalog.validation import parse_jsonl
from shipyard.catalog.writes import AssetSpec, AssetWriter, edges_touching
from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from shipyard.catalog.enrich import EnrichResult
    from shipyard.catalog.sync import SyncReport
    from shipyard.workspace import Workspace

__all__ = ["AssetRecord", "CatalogService", "LineageEdge", "RegisterResult", "SearchHit", "Tombstone"]

_TOKEN = re.compile(r"[a-z0-9]+")
# Field weights of a token match; a name hit outranks a description hit.
_WEIGHTS = {"name": 5.0, "title": 3.0, "tags": 3.0, "owner": 2.0, "columns": 2.0, "description": 1.0}
_DIRECTIONS = ("up", "down", "both")
_GENERATION_SQL = "SELECT value FROM catalog_generation WHERE id = 1"


class CatalogService:
    """Assets of one workspace's metadata store, scoped by project (the workspace's by default)."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    # -- single assets --------------------------------------------------------------------------------
    def upsert(
        self,
        kind: str,
        name: str,
        *,
        project: str | None = None,
        title: str = "",
        description: str = "",
        owner: str = "",
        tags: builtins.list[str] | None = None,
        source: str = "",
        attributes: dict[str, Any] | None = None,
        columns: builtins.list[dict[str, Any]] | None = None,
        freshness: datetime | None = None,
        description_status: str | None = None,
    ) -> AssetRecord:
        """Create or replace the asset ``(project, kind, name)``; a table's columns become column assets."""
        from shipyard.catalog.validation import check_document

        if not kind or not name:
            raise InvalidInput("an asset needs a non-empty kind and name")
        doc: dict[str, Any] = {"kind": kind, "name": name, "columns": columns or []}
        if description_status is not None:
            doc["description_status"] = description_status
        try:
            checked = check_document(0, doc).spec
        except ValueError as exc:
            raise InvalidInput(f"{kind} '{name}': {exc}") from exc
        spec = AssetSpec(
            kind=kind,
            name=checked.name,
            title=title,
            description=description,
            owner=owner,
            tags=list(tags or []),
            source=source,
            attributes=dict(attributes or {}),
            columns=checked.columns,
            freshness=as_utc(freshness),
            description_status=description_status,
        )
        proj = project or self._ws.project
        with self._ws.store.session() as s:
            row, _ = AssetWriter(s, proj).write(spec)
            s.flush()
            return to_record(row)

    def remove(self, kind: str, name: str, project: str | None = None) -> bool:
        """Delete an asset (a table takes its columns along) and leave a tombstone; True if it existed."""
        with self._ws.store.session() as s:
            return AssetWriter(s, project or self._ws.project).delete(kind, name)

    def get(self, kind: str, name: str, project: str | None = None) -> AssetRecord:
        """The asset ``(kind, name)``; ``NotFound`` if it is not registered."""
        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            row = (
                s.query(Asset)
                .filter_by(project=project or self._ws.project, kind=kind, name=name)
                .one_or_none()
            )
            if row is None:
                raise NotFound(
                    f"no {kind} '{name}' in the catalog; register it first "
                    f"(`shipyard catalog search {name.split('.')[-1]}` finds similar names)"
                )
            return to_record(row)

    def list(self, kinds: list[str] | None = None, project: str | None = None) -> list[AssetRecord]:
        """Assets of the project, optionally of some kinds, by kind then name."""
        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            query = s.query(Asset).filter_by(project=project or self._ws.project)
            if kinds:
                query = query.filter(Asset.kind.in_(kinds))
            return [to_record(r) for r in query.order_by(Asset.kind, Asset.name)]

    # -- for indexers ---------------------------------------------------------------------------------
    def projects(self) -> builtins.list[str]:
        """Every project that has at least one asset, sorted."""
        from sqlalchemy import select

        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            return sorted(s.scalars(select(Asset.project).distinct()))

    def generation(self) -> int | None:
        """A counter every asset write or removal moves (trigger, migration 0005); None if unreadable."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._ws.store.engine.connect() as conn:
                value = conn.exec_driver_sql(_GENERATION_SQL).scalar()
        except SQLAlchemyError:
            return None  # safe mode on a store older than 0005: callers fall back to the full check
        return None if value is None else int(value)

    def list_changed(
        self, since: datetime | None, projects: builtins.list[str] | None = None
    ) -> builtins.list[AssetRecord]:
        """Assets created or changed after ``since`` (all when None), in the given projects (all when None)."""
        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            return [to_record(r) for r in s.scalars(self._since(Asset, Asset.updated_at, since, projects))]

    def removed_since(
        self, since: datetime | None, projects: builtins.list[str] | None = None
    ) -> builtins.list[Tombstone]:
        """Tombstones of assets removed after ``since`` (all when None) and not re-created since."""
        from shipyard.store.models import AssetTombstone

        query = self._since(AssetTombstone, AssetTombstone.removed_at, since, projects)
        with self._ws.store.session() as s:
            return [
                Tombstone(t.kind, t.name, t.project, as_utc(t.removed_at) or datetime.now(UTC))
                for t in s.scalars(query)
            ]

    def _since(
        self, model: Any, stamp: Any, since: datetime | None, projects: builtins.list[str] | None
    ) -> Any:
        """``SELECT model`` rows stamped after ``since`` in ``projects`` (None: no bound), oldest first."""
        from sqlalchemy import select

        query = select(model)
        if since is not None:
            query = query.where(stamp > self._when(since))
        if projects is not None:
            query = query.where(model.project.in_(projects))
        return query.order_by(stamp, model.id)

    # -- lineage --------------------------------------------------------------------------------------
    def lineage(
        self,
        kind: str,
        name: str,
        project: str | None = None,
        direction: str = "both",
        depth: int = 3,
    ) -> builtins.list[LineageEdge]:
        """Edges reachable from ``(kind, name)``: ``up`` follows what it derives from, ``down`` its users."""
        if direction not in _DIRECTIONS:
            raise InvalidInput(f"direction {direction!r}: use up, down or both")
        if not 1 <= depth <= 10:
            raise InvalidInput(f"depth {depth}: use 1 to 10")
        proj = project or self._ws.project
        found: dict[LineageEdge, None] = {}
        with self._ws.store.session() as s:
            for outgoing in (True, False):
                if direction == ("down" if outgoing else "up"):
                    continue
                frontier = [(kind, name)]
                seen = set(frontier)
                for _ in range(depth):
                    nxt = []
                    for k, n in frontier:
                        for e in edges_touching(s, proj, k, n, outgoing):
                            found.setdefault(
                                LineageEdge(e.src_kind, e.src_name, e.dst_kind, e.dst_name, e.relation)
                            )
                            node = (e.dst_kind, e.dst_name) if outgoing else (e.src_kind, e.src_name)
                            if node not in seen:
                                seen.add(node)
                                nxt.append(node)
                    frontier = nxt
        return builtins.list(found)

    def set_edges(
        self,
        kind: str,
        name: str,
        edges: builtins.list[tuple[str, str, str]],
        origin: str,
        project: str | None = None,
    ) -> None:
        """Replace the outgoing ``(dst_kind, dst_name, relation)`` edges ``origin`` owns on ``(kind, name)``."""
        if not origin:
            raise InvalidInput("set_edges needs an origin (the asset's own edges are set by upsert)")
        with self._ws.store.session() as s:
            AssetWriter(s, project or self._ws.project).set_edges(kind, name, edges, origin)

    # -- ingestion ------------------------------------------------------------------------------------
    def register(
        self, docs: builtins.list[Any], *, partial: bool = False, project: str | None = None
    ) -> RegisterResult:
        """Register asset documents (DESIGN.md's JSON shape); one transaction unless ``partial``."""
        numbered = [(i, d) for i, d in enumerate(docs, start=1)]
        return register_documents(
            self._ws.store, numbered, [], project or self._ws.project, partial, "request", unit="asset"
        )

    def register_file(
        self, path: Path, *, partial: bool = False, project: str | None = None
    ) -> RegisterResult:
        """Register a JSON Lines file, one asset a line; errors name the line."""
        if not path.is_file():
            raise InvalidInput(f"{path}: no such file; pass a JSON Lines file of assets")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        docs, errors = parse_jsonl(text)
        return register_documents(
            self._ws.store, docs, errors, project or self._ws.project, partial, str(path)
        )

    def sync(self, sources: builtins.list[str] | None = None) -> SyncReport:
        """Mirror Feast, MLflow, pipelines, deployments and monitor results; one failing source spares the rest."""
        from shipyard.catalog.sync import sync_sources

        return sync_sources(self._ws, sources)

    def import_dbt(self, manifest: Path, project: str | None = None) -> RegisterResult:
        """Models, seeds, snapshots and sources of a dbt ``manifest.json`` with columns and lineage."""
        from shipyard.catalog.dbt import manifest_documents

        docs = manifest_documents(manifest)
        return register_documents(
            self._ws.store, docs, [], project or self._ws.project, False, str(manifest), unit="relation"
        )

    def import_sql(self, url: str, schema: str | None = None, project: str | None = None) -> RegisterResult:
        """Tables and views of a SQLAlchemy database (columns, types, comments) via its inspector."""
        from shipyard.catalog.sqlsource import database_documents

        docs = database_documents(url, schema)
        return register_documents(
            self._ws.store, docs, [], project or self._ws.project, False, "database", unit="relation"
        )

    # -- enrichment -----------------------------------------------------------------------------------
    def enrich(self, kinds: builtins.list[str] | None = None, project: str | None = None) -> EnrichResult:
        """Draft descriptions for undocumented assets from names, columns and sampled statistics."""
        from shipyard.catalog.enrich import enrich_assets

        return enrich_assets(self._ws, kinds, project or self._ws.project)

    def accept(self, kind: str, name: str, project: str | None = None) -> AssetRecord:
        """Mark the drafted description of ``(kind, name)`` as accepted by a person."""
        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            row = (
                s.query(Asset)
                .filter_by(project=project or self._ws.project, kind=kind, name=name)
                .one_or_none()
            )
            if row is None:
                raise NotFound(f"no {kind} '{name}' in the catalog")
            if row.description_status != "draft":
                state = row.description_status or "written by a person"
                raise InvalidInput(
                    f"{kind} '{name}' has no draft description to accept (it is {state}); "
                    "run `shipyard catalog enrich` first"
                )
            row.description_status = "accepted"
            s.flush()
            return to_record(row)

    def _when(self, value: datetime) -> datetime:
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite stores DateTime as UTC wall-clock text without an offset; compare like with like.
        return aware.replace(tzinfo=None) if self._ws.store.engine.dialect.name == "sqlite" else aware

    # -- search ---------------------------------------------------------------------------------------
    def search(
        self,
        text: str,
        kinds: builtins.list[str] | None = None,
        project: str | None = None,
        limit: int = 20,
    ) -> builtins.list[SearchHit]:
        """Assets matching the words of ``text``, best first (every asset of the kinds if text is empty)."""
        from sqlalchemy import String, cast, or_

        from shipyard.store.models import Asset

        for kind in kinds or []:
            if kind not in KINDS:
                raise InvalidInput(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        tokens = _TOKEN.findall(text.lower())[:32]
        with self._ws.store.session() as s:
            query = s.query(Asset).filter_by(project=project or self._ws.project)
            if kinds:
                query = query.filter(Asset.kind.in_(kinds))
            if tokens:
                columns = (
                    Asset.name,
                    Asset.title,
                    Asset.description,
                    Asset.owner,
                    cast(Asset.tags, String),
                    cast(Asset.columns, String),
                )
                query = query.filter(
                    or_(*(c.ilike(f"%{t}%") for t in tokens for c in columns))  # bound, not spliced
                )
            rows = [to_record(r) for r in query]
        hits = [SearchHit(r, _score(r, tokens)) for r in rows]
        hits = [h for h in hits if h.score > 0 or not tokens]
        hits.sort(key=lambda h: (-h.score, h.asset.kind, h.asset.name))
        return hits[:limit]


def _score(asset: AssetRecord, tokens: builtins.list[str]) -> float:
    fields = {
        "name": asset.name,
        "title": asset.title,
        "tags": " ".join(asset.tags),
        "owner": asset.owner,
        "columns": " ".join(f"{c.get('name', '')} {c.get('description', '')}" for c in asset.columns),
        "description": asset.description,
    }
    score = 0.0
    for key, value in fields.items():
        low = value.lower()
        words = _TOKEN.findall(low)
        for token in tokens:
            if token in words:
                score += _WEIGHTS[key]
            elif token in low:
                score += _WEIGHTS[key] / 2
    return score
