"""``ws.catalog``: upsert, get, list and search assets in the metadata store's ``assets`` table.

Deliberately small: lineage edges live in ``attributes["lineage"]`` (a list of ``{"kind", "name",
"relation"}``) until the full catalog lands. Search is token scoring over name, title, description, tags
and owner, done in Python after a coarse SQL ``LIKE`` prefilter (bound parameters only).
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

_TOKEN = re.compile(r"[a-z0-9]+")
# Field weights of a token match; a name hit outranks a description hit.
_WEIGHTS = {"name": 5.0, "title": 3.0, "tags": 3.0, "owner": 2.0, "description": 1.0}


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


@dataclass(frozen=True)
class SearchHit:
    """An asset and how well it matched the query."""

    asset: AssetRecord
    score: float


class CatalogService:
    """Assets of one workspace's metadata store, scoped by project (the workspace's by default)."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def upsert(
        self,
        kind: str,
        name: str,
        *,
        project: str | None = None,
        title: str = "",
        description: str = "",
        owner: str = "",
        tags: list[str] | None = None,
        source: str = "",
        attributes: dict[str, Any] | None = None,
    ) -> AssetRecord:
        """Create or replace the asset ``(project, kind, name)``."""
        from shipyard.store.models import Asset

        if not kind or not name:
            raise InvalidInput("an asset needs a non-empty kind and name")
        proj = project or self._ws.project
        with self._ws.store.session() as s:
            row = s.query(Asset).filter_by(project=proj, kind=kind, name=name).one_or_none()
            if row is None:
                row = Asset(project=proj, kind=kind, name=name)
                s.add(row)
            row.title = title
            row.description = description
            row.owner = owner
            row.tags = list(tags or [])
            row.source = source
            row.attributes = dict(attributes or {})
            s.flush()
            return _record(row)

    def remove(self, kind: str, name: str, project: str | None = None) -> bool:
        """Delete an asset; True if it existed."""
        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            count = (
                s.query(Asset).filter_by(project=project or self._ws.project, kind=kind, name=name).delete()
            )
        return bool(count)

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
                raise NotFound(f"no {kind} '{name}' in the catalog; register it first")
            return _record(row)

    def list(self, kinds: list[str] | None = None, project: str | None = None) -> list[AssetRecord]:
        """Assets of the project, optionally of some kinds, by kind then name."""
        from shipyard.store.models import Asset

        with self._ws.store.session() as s:
            query = s.query(Asset).filter_by(project=project or self._ws.project)
            if kinds:
                query = query.filter(Asset.kind.in_(kinds))
            return [_record(r) for r in query.order_by(Asset.kind, Asset.name)]

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

        tokens = _TOKEN.findall(text.lower())
        with self._ws.store.session() as s:
            query = s.query(Asset).filter_by(project=project or self._ws.project)
            if kinds:
                query = query.filter(Asset.kind.in_(kinds))
            if tokens:
                columns = (Asset.name, Asset.title, Asset.description, Asset.owner, cast(Asset.tags, String))
                query = query.filter(
                    or_(*(c.ilike(f"%{t}%") for t in tokens for c in columns))  # bound, not spliced
                )
            rows = [_record(r) for r in query]
        hits = [SearchHit(r, _score(r, tokens)) for r in rows]
        hits = [h for h in hits if h.score > 0 or not tokens]
        hits.sort(key=lambda h: (-h.score, h.asset.kind, h.asset.name))
        return hits[:limit]


def _score(asset: AssetRecord, tokens: list[str]) -> float:
    fields = {
        "name": asset.name,
        "title": asset.title,
        "tags": " ".join(asset.tags),
        "owner": asset.owner,
        "description": asset.description,
    }
    score = 0.0
    for key, value in fields.items():
        words = _TOKEN.findall(value.lower())
        for token in tokens:
            if token in words:
                score += _WEIGHTS[key]
            elif token in value.lower():
                score += _WEIGHTS[key] / 2
    return score


def _record(row: Any) -> AssetRecord:
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
        updated_at=row.updated_at,
    )
