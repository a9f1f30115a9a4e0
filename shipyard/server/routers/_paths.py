"""Paths sent over REST are workspace-relative and must stay inside the workspace."""

from __future__ import annotations

from pathlib import Path

from shipyard.errors import InvalidInput
from shipyard.workspace import Workspace


def workspace_path(ws: Workspace, value: str, field: str) -> Path:
    """Resolve ``value`` under the workspace root; anything escaping it is refused, naming ``field``."""
    root = ws.root.resolve()
    candidate = (root / value).resolve()
    if candidate != root and root not in candidate.parents:
        raise InvalidInput(f"{field}: {value!r} is outside the workspace; use a path relative to {root}")
    return candidate
