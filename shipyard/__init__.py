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


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext shipyard``: register the Shipyard magics."""
    from shipyard.jupyter_ext import load_ipython_extension as load

    load(ipython)


__all__ = ["__version__", "load_ipython_extension", "open_workspace"]
