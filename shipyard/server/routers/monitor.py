"""``/api/v1/monitor``: drift between a reference and a current window."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shipyard.server.auth import get_workspace
from shipyard.server.routers._paths import workspace_path
from shipyard.workspace import Workspace

router = APIRouter(tags=["monitor"])


class DriftRequest(BaseModel):
    reference: str = Field(min_length=1, description="Parquet or CSV path, relative to the workspace")
    current: str = Field(min_length=1, description="Parquet or CSV path, relative to the workspace")
    features: list[str] | None = None


@router.post("/monitor/drift")
def drift(body: DriftRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Per-feature drift statistics and the overall decision (DESIGN.md drift contract)."""
    reference = workspace_path(ws, body.reference, "reference")
    current = workspace_path(ws, body.current, "current")
    return ws.monitor.drift(reference, current, body.features).to_dict()


@router.get("/monitor/deployments/{name}/drift")
def deployment_drift(name: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """Drift of a deployment's logged traffic against its training reference."""
    return ws.monitor.deployment_drift(name).to_dict()
