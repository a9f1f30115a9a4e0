"""The one adapter from catalog assets to indexable documents (text to embed, text to match, payload).

Everything the copilot knows about an asset's shape lives here, so catalog changes touch one module.
Sensitive columns are named in the text but their sample values and statistics never enter it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-4c59-9a57-0c5e2f1d8b11")
# Column keys that may reveal values; shown only to callers granted masked columns.
VALUE_KEYS = ("samples", "sample_values", "stats", "statistics", "top_values", "min", "max", "mean")
MAX_DESCRIPTION = 1200


@dataclass(frozen=True)
class AssetDocument:
    """What the index stores for one asset."""

    point_id: str
    project: str
    kind: str
    name: str
    dense_text: str
    lexical_text: str
    payload: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""


def point_id(project: str, kind: str, name: str) -> str:
    """The Qdrant point id of an asset: a UUID derived from its identity, stable across runs."""
    return str(uuid.uuid5(_NAMESPACE, f"{project}\x1f{kind}\x1f{name}"))


def columns_of(asset: Any) -> list[dict[str, Any]]:
    """The asset's columns, whether the catalog stores them as a field or in attributes."""
    cols = getattr(asset, "columns", None) or asset.attributes.get("columns") or []
    return [c for c in cols if isinstance(c, dict)]


def freshness_of(asset: Any) -> datetime | None:
    """When the asset's data last changed (falls back to when its metadata changed)."""
    value = getattr(asset, "freshness", None) or asset.attributes.get("freshness")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    return value if isinstance(value, datetime) else getattr(asset, "updated_at", None)


def _values(column: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    """Sample values and statistics of a column, from the column itself or ``attributes["stats"]``."""
    stats = attributes.get("stats")
    found = {k: column[k] for k in VALUE_KEYS if k in column}
    if isinstance(stats, dict):
        own = stats.get(str(column.get("name")), stats)
        if isinstance(own, dict):
            found.update({k: own[k] for k in VALUE_KEYS if k in own})
    return found


def _words(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").replace(":", " ").replace("/", " ")


def to_document(asset: Any) -> AssetDocument:
    """Turn an asset into its indexed document; the hash changes exactly when indexed content changes."""
    cols = columns_of(asset)
    description = (asset.description or "")[:MAX_DESCRIPTION]
    column_text = "; ".join(f"{c.get('name', '')} {c.get('description', '')}".strip() for c in cols[:60])
    kind_words = asset.kind.replace("_", " ")
    head = f"{kind_words} {asset.title or _words(asset.name)}"
    table = asset.attributes.get("table") if asset.kind == "column" else None
    if table:
        head += f" of table {_words(str(table))}"
    dense_text = f"{head}. {description} Columns: {column_text}" if cols else f"{head}. {description}"
    lexical_text = " ".join(
        [
            asset.name,
            _words(asset.name),
            asset.title,
            description,
            " ".join(asset.tags),
            asset.owner,
            column_text,
            kind_words,
        ]
    )
    payload = {
        "project": asset.project,
        "kind": asset.kind,
        "name": asset.name,
        "title": asset.title,
        "description": description,
        "owner": asset.owner,
        "tags": list(asset.tags),
        "source": asset.source,
        "table": str(table or ""),
        "sensitive": bool(asset.attributes.get("sensitive", False)),
        "values": _values({"name": asset.name.rsplit(".", 1)[-1]}, asset.attributes)
        if asset.kind == "column"
        else {},
        "columns": [
            {
                "name": str(c.get("name", "")),
                "type": str(c.get("type", "")),
                "description": str(c.get("description", "")),
                "sensitive": bool(c.get("sensitive", False)),
                **_values(c, asset.attributes),
            }
            for c in cols
        ],
    }
    digest = hashlib.sha256(json.dumps([dense_text, lexical_text, payload], sort_keys=True).encode())
    return AssetDocument(
        point_id=point_id(asset.project, asset.kind, asset.name),
        project=asset.project,
        kind=asset.kind,
        name=asset.name,
        dense_text=dense_text,
        lexical_text=lexical_text,
        payload={**payload, "hash": digest.hexdigest()},
        content_hash=digest.hexdigest(),
    )
