"""``/api/v1/pipelines``: preview and promote notebook cells to a Dagster pipeline, run it, read runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field, model_validator

from shipyard.governance.inputs import identifier
from shipyard.server.auth import get_workspace
from shipyard.server.routers._paths import workspace_path
from shipyard.workspace import Workspace

router = APIRouter(tags=["pipelines"])

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"


class PromoteRequest(BaseModel):
    notebook: str | None = Field(
        None, min_length=1, description="notebook path, relative to the workspace (or send content)"
    )
    content: dict[str, Any] | str | None = Field(
        None, description="the notebook itself (nbformat JSON), e.g. unsaved editor state"
    )
    name: str | None = Field(
        None, pattern=NAME_PATTERN, description="pipeline name; default: metadata.shipyard.name"
    )
    cells: list[str] | None = Field(
        None, description="cell ids or index ranges ('3-7'); default: all tagged cells"
    )

    @model_validator(mode="after")
    def _one_source(self) -> PromoteRequest:
        if self.notebook is None and self.content is None:
            raise ValueError("send 'notebook' (a workspace path) or 'content' (the notebook JSON)")
        return self


class RunRequest(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)
    force: bool = Field(False, description="run every step, even cached ones")
    strict_resources: bool = Field(False, description="fail when this machine lacks a step's resources")
    ray: bool | None = Field(
        None, description="run each step as a Ray task with its resources (default: notebook metadata)"
    )


@router.get("/pipelines")
def list_pipelines(ws: Workspace = Depends(get_workspace)) -> Any:
    """Names of the promoted pipelines."""
    return {"pipelines": ws.pipelines.list_pipelines()}


@router.post("/pipelines:promote")
def promote_preview(
    body: PromoteRequest,
    apply: bool = Query(False, description="write the pipeline folder; default: preview only"),
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Steps, edges, parameters, warnings and the diff to the current pipeline; ``?apply=true`` writes it."""
    path = workspace_path(ws, body.notebook, "notebook") if body.notebook is not None else None
    action = ws.pipelines.promote if apply else ws.pipelines.preview
    return jsonable_encoder(action(path, body.name, body.cells, content=body.content))


@router.post("/pipelines/promote", status_code=201)
def promote(body: PromoteRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Write the pipeline at once (same as ``/pipelines:promote?apply=true``)."""
    path = workspace_path(ws, body.notebook, "notebook") if body.notebook is not None else None
    return jsonable_encoder(ws.pipelines.promote(path, body.name, body.cells, content=body.content))


@router.get("/pipelines/runs/{run_id}")
def get_run(run_id: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """One pipeline run with its steps."""
    return jsonable_encoder(ws.pipelines.get_run(identifier(run_id, "run_id", kind="name")))


@router.get("/pipelines/{name}")
def show(name: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """The pipeline's recorded spec: steps, edges, parameters, resources, source notebook hash."""
    return ws.pipelines.spec(identifier(name, "name", kind="name"))


@router.get("/pipelines/{name}/runs")
def list_runs(
    name: str, limit: int = Query(20, ge=1, le=1000), ws: Workspace = Depends(get_workspace)
) -> Any:
    """Recorded runs of the pipeline, newest first."""
    return {"runs": jsonable_encoder(ws.pipelines.list_runs(identifier(name, "name", kind="name"), limit))}


@router.post("/pipelines/{name}/runs")
def run(name: str, body: RunRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Materialize the pipeline's assets in-process; returns per-step status."""
    identifier(name, "name", kind="name")
    for key in body.params:
        identifier(key, f"params.{key}", kind="parameter")
    return jsonable_encoder(
        ws.pipelines.run(
            name, body.params, force=body.force, strict_resources=body.strict_resources, ray=body.ray
        )
    )
