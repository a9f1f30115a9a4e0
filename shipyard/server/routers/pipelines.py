"""``/api/v1/pipelines``: promote notebook cells to a Dagster pipeline, run it, read runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from shipyard.server.auth import get_workspace
from shipyard.server.routers._paths import workspace_path
from shipyard.workspace import Workspace

router = APIRouter(tags=["pipelines"])

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"


class PromoteRequest(BaseModel):
    notebook: str = Field(min_length=1, description="notebook path, relative to the workspace")
    name: str = Field(pattern=NAME_PATTERN)
    cells: list[str] | None = Field(
        None, description="cell ids or index ranges ('3-7'); default: all tagged cells"
    )


class RunRequest(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)


@router.get("/pipelines")
def list_pipelines(ws: Workspace = Depends(get_workspace)) -> Any:
    """Names of the promoted pipelines."""
    return {"pipelines": ws.pipelines.list_pipelines()}


@router.post("/pipelines/promote", status_code=201)
def promote(body: PromoteRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Turn the notebook's tagged cells into step notebooks and Dagster definitions."""
    path = workspace_path(ws, body.notebook, "notebook")
    return jsonable_encoder(ws.pipelines.promote(path, body.name, body.cells))


@router.post("/pipelines/{name}/runs")
def run(name: str, body: RunRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Materialize the pipeline's assets in-process; returns per-step status."""
    return jsonable_encoder(ws.pipelines.run(name, body.params))


@router.get("/pipelines/runs/{run_id}")
def get_run(run_id: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """One pipeline run with its steps."""
    return jsonable_encoder(ws.pipelines.get_run(run_id))
