"""Paths sent over REST are workspace-relative and must stay inside the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Path as PathParam

from shipyard.governance.inputs import safe_path
from shipyard.workspace import Workspace


def workspace_path(ws: Workspace, value: str, field: str) -> Path:
    """Resolve ``value`` under the workspace root through the one validator (``governance.inputs``)."""
    return safe_path(ws.root, value, field)


# Path parameters naming a resource: the same strict pattern as governance.inputs' "name" identifiers.
ResourceName = Annotated[
    str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", description="resource name")
]
ModelName = Annotated[
    str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,199}$", description="registered model name")
]
