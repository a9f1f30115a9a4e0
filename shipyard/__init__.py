"""Shipyard: from notebook to a governed, monitored production endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from shipyard.workspace import Workspace


def open_workspace(path: str | None = None) -> Workspace:
    """Open the workspace at ``path``, ``SHIPYARD_WORKSPACE`` or the nearest ``shipyard.toml`` upward."""
    from shipyard.workspace import Workspace

    return Workspace.open(path)


__all__ = ["__version__", "open_workspace"]
