"""``GET /api/v1/health``: liveness without credentials (it reveals nothing but the version)."""

from __future__ import annotations

from fastapi import APIRouter

import shipyard

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Report that the server is up."""
    return {"status": "ok", "version": shipyard.__version__}
