"""dbt connector: models, seeds, snapshots and sources of a ``manifest.json`` as catalog documents.

A relation is named ``schema.alias`` (how it is queried); ``depends_on.nodes`` become ``derived_from``
edges; a column is sensitive when its ``meta`` says ``sensitive``/``pii``/``contains_pii``, when it is
tagged ``pii``, or when its name looks like personal data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shipyard.catalog.records import DERIVED_FROM
from shipyard.catalog.sensitivity import looks_sensitive
from shipyard.errors import InvalidInput

_RELATIONS = ("model", "seed", "snapshot")
_MAX_BYTES = 512 * 1024 * 1024


def manifest_documents(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Catalog documents (numbered) for the relations of the dbt manifest at ``path``."""
    manifest = _load(path)
    nodes = _section(manifest, "nodes", path)
    sources = _section(manifest, "sources", path) if "sources" in manifest else {}
    project = str((manifest.get("metadata") or {}).get("project_name") or "")
    names: dict[str, str] = {}
    relations: list[tuple[str, dict[str, Any]]] = []
    for uid, node in [*nodes.items(), *sources.items()]:
        if not isinstance(node, dict):
            raise InvalidInput(
                f"{path}: node {uid!r} is not an object; regenerate the manifest with `dbt parse`"
            )
        kind = node.get("resource_type")
        if kind not in (*_RELATIONS, "source"):
            continue  # tests, analyses, operations: not data
        if not isinstance(node.get("name"), str) or not node["name"]:
            raise InvalidInput(f"{path}: node {uid!r} has no name; regenerate the manifest with `dbt parse`")
        relation = node.get("identifier") if kind == "source" else node.get("alias")
        schema = node.get("schema")
        table = str(relation or node["name"])
        names[uid] = f"{schema}.{table}" if schema else table
        relations.append((uid, node))
    return [(i, _document(uid, node, names, project)) for i, (uid, node) in enumerate(relations, start=1)]


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidInput(
            f"{path}: no such file; pass dbt's target/manifest.json (run `dbt parse` to make it)"
        )
    if path.stat().st_size > _MAX_BYTES:
        raise InvalidInput(f"{path} is larger than {_MAX_BYTES // 2**20} MB; is it a dbt manifest?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid JSON ({exc}); pass dbt's target/manifest.json") from exc
    if not isinstance(manifest, dict):
        raise InvalidInput(f"{path} is not a dbt manifest: expected a JSON object at the top")
    return manifest


def _section(manifest: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = manifest.get(key)
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{path} is not a dbt manifest: '{key}' is missing or not an object; pass target/manifest.json"
        )
    return value


def _document(uid: str, node: dict[str, Any], names: dict[str, str], project: str) -> dict[str, Any]:
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    columns = node.get("columns") or {}
    if not isinstance(columns, dict):
        raise InvalidInput(f"dbt node {uid!r}: 'columns' must be an object")
    depends = (node.get("depends_on") or {}).get("nodes") or []
    kind = node.get("resource_type")
    return {
        "kind": "table",
        "name": names[uid],
        "title": str(node.get("name")),
        "description": str(node.get("description") or ""),
        "owner": str(meta.get("owner") or ""),
        "tags": [str(t) for t in node.get("tags") or []] + ["dbt", f"dbt:{kind}"],
        "source": f"dbt:{uid}"
        + (f" ({node['original_file_path']})" if node.get("original_file_path") else ""),
        "columns": [_column(name, col) for name, col in columns.items() if isinstance(col, dict)],
        "attributes": {
            "dbt_unique_id": uid,
            "dbt_project": project,
            "resource_type": kind,
            "materialized": str((node.get("config") or {}).get("materialized") or ""),
            "database": str(node.get("database") or ""),
        },
        "lineage": [
            {"kind": "table", "name": names[dep], "relation": DERIVED_FROM} for dep in depends if dep in names
        ],
    }


def _column(name: str, col: dict[str, Any]) -> dict[str, Any]:
    meta = col.get("meta") or {}
    tags = [str(t).lower() for t in col.get("tags") or []]
    flagged = any(bool(meta.get(k)) for k in ("sensitive", "pii", "contains_pii")) or "pii" in tags
    return {
        "name": str(col.get("name") or name),
        "type": str(col.get("data_type") or ""),
        "description": str(col.get("description") or ""),
        "sensitive": flagged or looks_sensitive(str(col.get("name") or name)),
    }
