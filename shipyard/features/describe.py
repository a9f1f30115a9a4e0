"""What a feature view is: schema, owner, source, TTL, freshness, availability, offline stats, lineage.

Also mirrors the registry into the catalog (assets of kind ``feature_view`` and ``feature``) so search, the
feature browser and the copilot see the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.features.quality import declared_checks
from shipyard.features.stats import FeatureStats, offline_stats, source_path

if TYPE_CHECKING:
    from feast.feature_view import FeatureView

    from shipyard.catalog.service import CatalogService


@dataclass(frozen=True)
class FeatureViewInfo:
    """A registered feature view."""

    name: str
    entities: list[str]
    features: list[str]
    ttl_s: float | None
    source: str


def view_info(view: FeatureView) -> FeatureViewInfo:
    """The registry summary of a view."""
    source = view.batch_source
    where = getattr(source, "path", None) or (source.name if source is not None else "")
    return FeatureViewInfo(
        name=view.name,
        entities=list(view.entities),
        features=[f.name for f in view.features],
        ttl_s=view.ttl.total_seconds() if view.ttl else None,
        source=str(where),
    )


VIEW_KIND = "feature_view"
FEATURE_KIND = "feature"


@dataclass(frozen=True)
class FeatureDetail:
    """One feature of a view."""

    ref: str
    name: str
    dtype: str
    description: str
    tags: dict[str, str]
    stats: FeatureStats | None = None


@dataclass(frozen=True)
class FeatureViewDetail:
    """Everything a data scientist asks about a feature view before reusing it."""

    name: str
    description: str
    owner: str
    tags: dict[str, str]
    entities: list[str]
    join_keys: list[str]
    source: str
    ttl_s: float | None
    last_materialized: datetime | None
    online: bool
    offline: bool
    features: list[FeatureDetail]
    quality_checks: list[str] = field(default_factory=list)
    feature_services: list[str] = field(default_factory=list)
    used_by: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class FeatureMatch:
    """A search hit: a feature view or one feature, with its score."""

    kind: str
    name: str
    feature_view: str
    description: str
    owner: str
    tags: list[str]
    score: float


def view_detail(
    view: FeatureView,
    repo_dir: Path,
    services: list[Any],
    catalog: CatalogService | None,
    with_stats: bool = True,
) -> FeatureViewDetail:
    """Describe ``view``; ``services`` are the registered feature services (to say which use it)."""
    stats = offline_stats(view, repo_dir) if with_stats else {}
    path = source_path(view, repo_dir)
    end = view.most_recent_end_time
    return FeatureViewDetail(
        name=view.name,
        description=view.description or "",
        owner=view.owner or "",
        tags=dict(view.tags or {}),
        entities=list(view.entities),
        join_keys=[c.name for c in view.entity_columns],
        source=str(path) if path is not None else _source_name(view),
        ttl_s=view.ttl.total_seconds() if view.ttl else None,
        last_materialized=(end.replace(tzinfo=UTC) if end and end.tzinfo is None else end),
        online=bool(view.online),
        offline=bool(view.offline) or (path is not None and path.exists()),
        features=[
            FeatureDetail(
                ref=f"{view.name}:{f.name}",
                name=f.name,
                dtype=str(f.dtype),
                description=f.description or "",
                tags=dict(f.tags or {}),
                stats=stats.get(f.name),
            )
            for f in view.features
        ],
        quality_checks=[f"{c.feature}: {c.describe()}" for c in declared_checks(view)],
        feature_services=sorted(
            s.name for s in services if any(p.name == view.name for p in s.feature_view_projections)
        ),
        used_by=_used_by(view.name, catalog),
    )


def register_in_catalog(
    views: list[FeatureView],
    catalog: CatalogService,
    repo_dir: Path,
    entities: list[Any] | None = None,
    services: list[Any] | None = None,
) -> None:
    """Upsert a ``feature_view`` and ``feature`` asset per registered view/feature; drop stale ones.

    The catalog has no kind for entities or feature services (issue 7's list), so they are recorded in the
    attributes of the views and features they concern: ``entity_details`` and ``feature_services``.
    """
    keep: set[tuple[str, str]] = set()
    by_entity = {e.name: _entity_record(e) for e in entities or [] if e.name != "__dummy"}
    in_services: dict[str, list[dict[str, Any]]] = {}
    for service in services or []:
        for projection in service.feature_view_projections:
            in_services.setdefault(projection.name, []).append(
                {
                    "name": service.name,
                    "owner": service.owner or "",
                    "description": service.description or "",
                    "tags": dict(service.tags or {}),
                    "features": [f.name for f in projection.features],
                }
            )
    for view in views:
        view_services = sorted(in_services.get(view.name, []), key=lambda s: s["name"])
        path = source_path(view, repo_dir)
        source = str(path) if path is not None else _source_name(view)
        tags = _tag_list(view.tags or {})
        catalog.upsert(
            VIEW_KIND,
            view.name,
            title=view.name.replace("_", " "),
            description=view.description or "",
            owner=view.owner or "",
            tags=tags,
            source=source,
            attributes={
                "entities": list(view.entities),
                "entity_details": [by_entity[e] for e in view.entities if e in by_entity],
                "feature_services": view_services,
                "features": [f.name for f in view.features],
                "ttl_s": view.ttl.total_seconds() if view.ttl else None,
                "lineage": [{"kind": "source", "name": source, "relation": "reads"}],
            },
        )
        keep.add((VIEW_KIND, view.name))
        for f in view.features:
            ref = f"{view.name}:{f.name}"
            catalog.upsert(
                FEATURE_KIND,
                ref,
                title=f.name.replace("_", " "),
                description=f.description or "",
                owner=view.owner or "",
                tags=tags + _tag_list(f.tags or {}),
                source=source,
                attributes={
                    "dtype": str(f.dtype),
                    "feature_view": view.name,
                    "feature_services": [s["name"] for s in view_services if f.name in s["features"]],
                    "lineage": [{"kind": VIEW_KIND, "name": view.name, "relation": "part_of"}],
                },
            )
            keep.add((FEATURE_KIND, ref))
    for asset in catalog.list(kinds=[VIEW_KIND, FEATURE_KIND]):
        if (asset.kind, asset.name) not in keep:
            catalog.remove(asset.kind, asset.name)


def _entity_record(entity: Any) -> dict[str, Any]:
    return {
        "name": entity.name,
        "join_key": entity.join_key,
        "value_type": entity.value_type.name.lower(),
        "description": entity.description or "",
        "owner": entity.owner or "",
        "tags": dict(entity.tags or {}),
    }


def search(catalog: CatalogService, text: str, limit: int = 20) -> list[FeatureMatch]:
    """Feature views and features whose name, description, owner or tags match ``text``, best first."""
    return [
        FeatureMatch(
            kind=h.asset.kind,
            name=h.asset.name,
            feature_view=str(h.asset.attributes.get("feature_view", h.asset.name)),
            description=h.asset.description,
            owner=h.asset.owner,
            tags=h.asset.tags,
            score=h.score,
        )
        for h in catalog.search(text, kinds=[VIEW_KIND, FEATURE_KIND], limit=limit)
    ]


def _used_by(view_name: str, catalog: CatalogService | None) -> list[dict[str, str]]:
    """Catalog assets (models, pipelines, deployments) whose lineage says they use this view or its features."""
    if catalog is None:
        return []
    found = []
    for asset in catalog.list():
        if asset.kind in (VIEW_KIND, FEATURE_KIND):
            continue
        for edge in asset.attributes.get("lineage", []) or []:
            target = str(edge.get("name", ""))
            if target == view_name or target.startswith(f"{view_name}:"):
                found.append({"kind": asset.kind, "name": asset.name, "relation": str(edge.get("relation"))})
                break
    return found


def _tag_list(tags: dict[str, str]) -> list[str]:
    return [f"{k}:{v}" for k, v in sorted(tags.items()) if not k.startswith("quality.")]


def _source_name(view: FeatureView) -> str:
    source = view.batch_source
    return str(source.name) if source is not None else ""
