"""Jupyter surfaces: IPython magics (``%load_ext shipyard``) and, later, the Jupyter server extension."""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Register every Shipyard magic group with IPython (called by ``%load_ext shipyard``)."""
    from shipyard.jupyter_ext.magics import register_all

    register_all(ipython)
