"""``GET /api/v1/health`` (liveness, no credentials: it reveals nothing but the version) and
``GET /api/v1/whoami`` (who a token is, and its role in the server's project)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

import shipyard
from shipyard.server.auth import current_principal, get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Report that the server is up."""
    return {"status": "ok", "version": shipyard.__version__}


@router.get("/whoami")
def whoami(request: Request, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """The caller's identity, the project this server serves and the caller's role in it."""
    principal = current_principal(request)
    role = principal.role_in(ws.project)
    return {
        "name": principal.name,
        "kind": principal.kind,
        "project": ws.project,
        "role": role.name if role is not None else None,
        "version": shipyard.__version__,
    }
