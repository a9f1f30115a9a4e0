"""Registering validated asset documents: all in one transaction, or (``partial``) the good ones only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.catalog.validation import LineError, ParsedAsset, check_documents
from shipyard.catalog.writes import AssetWriter
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.store.db import MetadataStore


@dataclass(frozen=True)
class RegisterResult:
    """What a register call wrote: counts of assets created/updated, column assets, and the bad lines.

    ``errors[].line`` is the 1-based line of a file, or the 1-based position in a list of documents.
    """

    created: int = 0
    updated: int = 0
    columns: int = 0
    errors: list[LineError] = field(default_factory=list)
    source: str = ""


def register_documents(
    store: MetadataStore,
    docs: list[tuple[int, Any]],
    decode_errors: list[LineError],
    default_project: str,
    partial: bool,
    where: str,
    unit: str = "line",
) -> RegisterResult:
    """Validate ``docs``; unless ``partial``, any bad one means ``InvalidInput`` and nothing written."""
    if not docs and not decode_errors:
        raise InvalidInput(f"{where} has no assets; write one JSON object per line (see docs/catalog.md)")
    good, errors = check_documents(docs)
    errors = sorted([*decode_errors, *errors], key=lambda e: e.line)
    if errors and not partial:
        shown = "; ".join(f"{unit} {e.line}: {e.message}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InvalidInput(
            f"{where}: {len(errors)} bad asset(s), nothing registered: {shown}{more}; fix them, or pass "
            f"{'--partial' if unit == 'line' else 'partial'} to register the good ones",
            detail={"errors": [{"line": e.line, "message": e.message} for e in errors]},
        )
    created, updated, columns = _write(store, good, default_project)
    return RegisterResult(created, updated, columns, errors, where)


def _write(store: MetadataStore, good: list[ParsedAsset], default_project: str) -> tuple[int, int, int]:
    created = updated = columns = 0
    with store.session() as s:
        writers: dict[str, AssetWriter] = {}
        for parsed in good:
            project = parsed.project or default_project
            if project not in writers:
                writers[project] = AssetWriter(s, project, bulk=len(good) > 20)
            _, new = writers[project].write(parsed.spec)
            created += int(new)
            updated += int(not new)
            columns += len(parsed.spec.columns) if parsed.spec.kind == "table" else 0
    return created, updated, columns
