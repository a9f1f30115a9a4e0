"""Read a notebook file into a list of cells: nbformat v4 as is, v3 upgraded, anything else rejected."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput, NotFound

_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


@dataclass(frozen=True)
class Cell:
    """One notebook cell; ``number`` is its 1-based position in the notebook, markdown cells included."""

    number: int
    cell_type: str
    source: str
    tags: tuple[str, ...] = ()
    cell_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceNotebook:
    """A validated notebook: where it came from, the sha256 of its bytes, and its cells."""

    path: Path
    sha256: str
    cells: list[Cell]
    metadata: dict[str, Any]


def load_notebook(path: Path) -> SourceNotebook:
    """Read and validate ``path``; bad input raises ``InvalidInput`` naming the path (and the cell)."""
    if not path.is_file():
        raise NotFound(f"notebook {path} does not exist; pass the path of an .ipynb file")
    return parse_notebook(path.read_bytes(), path)


def parse_notebook(raw: bytes, path: Path) -> SourceNotebook:
    """Validate notebook bytes (``path`` names it in messages and locates its working folder)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            f"{path}: not a notebook: the file is not valid JSON ({exc}); save it from Jupyter"
        ) from exc
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise InvalidInput(f"{path}: not a notebook: JSON without 'cells'; save it from Jupyter as .ipynb")
    major = data.get("nbformat")
    if major not in (3, 4):
        raise InvalidInput(
            f"{path}: nbformat {major!r} is not supported (only v4, and v3 which is upgraded); "
            "open and re-save it in a current Jupyter to convert it"
        )
    _check_cell_ids(path, data)
    import nbformat

    try:
        with warnings.catch_warnings():
            # Older v4 minors lack cell ids; nbformat warns and fills them in, which is what we want.
            warnings.simplefilter("ignore")
            node = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types for malformed structure
        raise InvalidInput(f"{path}: not a valid nbformat v{major} notebook ({exc})") from exc
    cells = [_cell(path, i + 1, c) for i, c in enumerate(node.get("cells", []))]
    return SourceNotebook(
        path=path, sha256=hashlib.sha256(raw).hexdigest(), cells=cells, metadata=dict(node.metadata)
    )


def _check_cell_ids(path: Path, data: dict[str, Any]) -> None:
    # nbformat would silently "repair" duplicates; a repeated id makes selecting cells by id ambiguous.
    seen: dict[str, int] = {}
    cells = data.get("cells")
    for number, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        cell_id = cell.get("id") if isinstance(cell, dict) else None
        if not isinstance(cell_id, str):
            continue
        if cell_id in seen:
            raise InvalidInput(
                f"{path}: cells {seen[cell_id]} and {number} share the cell id {cell_id!r}; cell ids must be "
                "unique: give one cell a new id (or delete its 'id' field and re-save in Jupyter)"
            )
        seen[cell_id] = number


def _cell(path: Path, number: int, node: Any) -> Cell:
    if not isinstance(node, dict) or "cell_type" not in node:
        raise InvalidInput(f"{path}: cell {number} is not a notebook cell (no cell_type)")
    source = node.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    metadata = dict(node.get("metadata") or {})
    tags = metadata.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput(f"{path}: cell {number}: metadata.tags must be a list of strings")
    return Cell(
        number=number,
        cell_type=str(node["cell_type"]),
        source=str(source),
        tags=tuple(t.strip() for t in tags if t.strip()),
        cell_id=str(node.get("id") or ""),
        metadata=metadata,
    )


def select_cells(notebook: SourceNotebook, selection: list[str] | None) -> SourceNotebook:
    """Keep only the selected cells (1-based numbers, ranges like ``3-7``, or cell ids); others are skipped."""
    if not selection:
        return notebook
    by_id = {c.cell_id: c.number for c in notebook.cells if c.cell_id}
    count = len(notebook.cells)
    wanted: set[int] = set()
    for item in selection:
        text = str(item).strip()
        match = _RANGE.match(text)
        # Random cell ids can be all digits: a number in range is a position, anything else an id first.
        if text.isdigit() and 1 <= int(text) <= count:
            numbers = [int(text)]
        elif text in by_id:
            numbers = [by_id[text]]
        elif match:
            numbers = list(range(int(match.group(1)), int(match.group(2)) + 1))
        elif text.isdigit():
            numbers = [int(text)]
        else:
            raise InvalidInput(
                f"cells: {text!r} is neither a cell number (1-{count}), a range like 2-5, nor a cell id "
                f"of {notebook.path}"
            )
        for n in numbers:
            if not 1 <= n <= count:
                raise InvalidInput(f"cells: cell {n} does not exist; {notebook.path} has cells 1-{count}")
        wanted.update(numbers)
    # imports/functions/parameters cells are shared context, so they stay even when not selected.
    shared = {"imports", "functions", "parameters", "pipeline-parameters"}
    kept = [c for c in notebook.cells if c.number in wanted or shared.intersection(c.tags)]
    return SourceNotebook(path=notebook.path, sha256=notebook.sha256, cells=kept, metadata=notebook.metadata)
