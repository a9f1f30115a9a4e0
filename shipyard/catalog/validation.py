"""Checking asset documents (a JSON Lines file, a REST body) before anything is written.

The document shape is DESIGN.md's catalog contract; every problem is reported with its line (or list index)
and field, so a user can fix a whole file in one pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.catalog.records import DESCRIPTION_STATUSES, KINDS
from shipyard.catalog.writes import AssetSpec

MAX_NAME = 400
MAX_TEXT = 400
MAX_DESCRIPTION = 65_536
MAX_COLUMNS = 2_000
_RELATION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Limits follow the store's column sizes (PostgreSQL enforces them); source is free text (URLs, paths).
_STR_FIELDS = {"title": 400, "owner": 200, "source": 4000, "project": 200}
_FIELDS = {
    "kind",
    "name",
    "title",
    "description",
    "owner",
    "tags",
    "source",
    "project",
    "columns",
    "freshness",
    "attributes",
    "lineage",
    "description_status",
}
_COLUMN_FIELDS = {"name", "type", "description", "sensitive", "mask"}
_MASKS = ("null", "hash", "partial")


@dataclass(frozen=True)
class LineError:
    """A bad asset: where (1-based line or list position) and what is wrong."""

    line: int
    message: str


@dataclass(frozen=True)
class ParsedAsset:
    """A valid asset document, the project it goes to (None = the default) and its line."""

    line: int
    project: str | None
    spec: AssetSpec


def parse_jsonl(text: str) -> tuple[list[tuple[int, Any]], list[LineError]]:
    """JSON Lines to ``(line, value)`` pairs; blank lines are skipped, undecodable ones are errors."""
    docs: list[tuple[int, Any]] = []
    errors: list[LineError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            docs.append((number, json.loads(raw)))
        except json.JSONDecodeError as exc:
            errors.append(LineError(number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
    return docs, errors


def check_documents(docs: list[tuple[int, Any]]) -> tuple[list[ParsedAsset], list[LineError]]:
    """Validate every document and refuse a second asset with the same project, kind and name."""
    good: list[ParsedAsset] = []
    errors: list[LineError] = []
    seen: dict[tuple[str | None, str, str], int] = {}
    for line, doc in docs:
        try:
            parsed = check_document(line, doc)
        except ValueError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        key = (parsed.project, parsed.spec.kind, parsed.spec.name)
        if key in seen:
            errors.append(
                LineError(
                    line,
                    f"duplicate {parsed.spec.kind} '{parsed.spec.name}' (first on line {seen[key]}); "
                    "keep one line per asset",
                )
            )
            continue
        seen[key] = line
        good.append(parsed)
    return good, errors


def check_document(line: int, doc: Any) -> ParsedAsset:
    """One asset document as a ``ParsedAsset``; ``ValueError`` names the field and what to write."""
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object, got {_type(doc)}")
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    for required in ("kind", "name"):
        if required not in doc:
            raise ValueError(f"missing field '{required}'")
    kind = _str(doc, "kind", MAX_TEXT)
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind[:60]}'; use one of {', '.join(KINDS)}")
    name = _name(_str(doc, "name", MAX_NAME), "name")
    for key, limit in _STR_FIELDS.items():
        _str(doc, key, limit)
    description = _str(doc, "description", MAX_DESCRIPTION)
    status = _str(doc, "description_status", 20) if "description_status" in doc else None
    if status is not None and status not in DESCRIPTION_STATUSES:
        raise ValueError(f"field 'description_status' must be one of '', 'draft', 'accepted'; got {status!r}")
    attributes = doc.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ValueError(f"field 'attributes' must be an object, got {_type(attributes)}")
    project = doc.get("project") or None
    return ParsedAsset(
        line=line,
        project=project,
        spec=AssetSpec(
            kind=kind,
            name=name,
            title=str(doc.get("title") or ""),
            description=description,
            owner=str(doc.get("owner") or ""),
            tags=_tags(doc.get("tags", [])),
            source=str(doc.get("source") or ""),
            attributes=attributes,
            columns=_columns(doc.get("columns", []), kind),
            freshness=_freshness(doc.get("freshness")),
            description_status=status,
            lineage=_lineage(doc.get("lineage", [])),
        ),
    )


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _str(doc: dict[str, Any], key: str, limit: int) -> str:
    value = doc.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field '{key}' must be a string, got {_type(value)}")
    if len(value) > limit:
        raise ValueError(f"field '{key}' is {len(value)} characters; the limit is {limit}")
    return value


def _name(value: str, where: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"field '{where}' is empty")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"field '{where}' contains control characters")
    return value


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ValueError("field 'tags' must be a list of strings")
    return [t for t in value if t.strip()]


def _columns(value: Any, kind: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValueError(f"field 'columns' must be a list of objects, got {_type(value)}")
    if value and kind not in ("table", "dataset", "feature_view"):
        raise ValueError(f"field 'columns' is for tables, datasets and feature views, not a {kind}")
    if len(value) > MAX_COLUMNS:
        raise ValueError(f"{len(value)} columns; the limit is {MAX_COLUMNS}")
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, col in enumerate(value, start=1):
        where = f"columns[{i}]"
        if not isinstance(col, dict):
            raise ValueError(f"{where} must be an object, got {_type(col)}")
        unknown = sorted(set(col) - _COLUMN_FIELDS)
        if unknown:
            raise ValueError(
                f"{where}: unknown field(s) {', '.join(unknown)}; allowed: name, type, description, sensitive, mask"
            )
        if "name" not in col:
            raise ValueError(f"{where}: missing field 'name'")
        name = _name(_str(col, "name", MAX_TEXT), f"{where}.name")
        if name in names:
            raise ValueError(f"{where}: duplicate column '{name}'")
        names.add(name)
        sensitive = col.get("sensitive", False)
        if not isinstance(sensitive, bool):
            raise ValueError(f"{where}.sensitive must be true or false, got {_type(sensitive)}")
        column = {
            "name": name,
            "type": _str(col, "type", MAX_TEXT),
            "description": _str(col, "description", MAX_DESCRIPTION),
            "sensitive": sensitive,
        }
        if "mask" in col:
            if col["mask"] not in _MASKS:
                raise ValueError(f"{where}.mask must be one of {', '.join(_MASKS)}, got {col['mask']!r}")
            column["mask"] = col["mask"]
        out.append(column)
    return out


def _freshness(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"field 'freshness' must be an ISO 8601 date-time string, got {_type(value)}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"field 'freshness' {value[:40]!r} is not an ISO 8601 date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _lineage(value: Any) -> list[tuple[str, str, str]]:
    if not isinstance(value, list):
        raise ValueError(f"field 'lineage' must be a list of objects, got {_type(value)}")
    out = []
    for i, edge in enumerate(value, start=1):
        where = f"lineage[{i}]"
        if not isinstance(edge, dict) or not {"kind", "name", "relation"} <= set(edge):
            raise ValueError(f"{where} must be an object with kind, name and relation")
        kind, name, relation = (
            _str(edge, "kind", 40),
            _str(edge, "name", MAX_NAME),
            _str(edge, "relation", 40),
        )
        if not _RELATION.match(relation):
            raise ValueError(
                f"{where}.relation {relation[:40]!r} must be a lowercase word like 'derived_from'"
            )
        out.append((_name(kind, f"{where}.kind"), _name(name, f"{where}.name"), relation))
    return out
