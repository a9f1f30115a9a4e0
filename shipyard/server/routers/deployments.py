"""``/api/v1/deployments``: deploy a registered model, list deployments, predict."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shipyard.governance.inputs import identifier
from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["deployments"])


class DeployRequest(BaseModel):
    model: str = Field(min_length=1, description="registered model name")
    ref: str = Field("champion", min_length=1, description="alias or version number")
    name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", description="deployment name"
    )


class PredictRequest(BaseModel):
    entities: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="entity keys, one per row (features looked up online)",
    )
    rows: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="raw feature rows {feature: number}, instead of entities",
    )


@router.get("/deployments")
def list_deployments(ws: Workspace = Depends(get_workspace)) -> Any:
    """Every deployment of the workspace."""
    return jsonable_encoder(ws.deployments.list())


@router.get("/deployments/{name}")
def get_deployment(name: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """One deployment by name."""
    return jsonable_encoder(ws.deployments.get(identifier(name, "name", kind="name")))


@router.post("/deployments", status_code=201)
def deploy(body: DeployRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Export, parity-check, serve on Triton and register a model version as a deployment."""
    return jsonable_encoder(ws.deployments.deploy(body.model, body.ref, body.name))


@router.post("/deployments/{name}/predict")
def predict(name: str, body: PredictRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Look up online features for the entities, run the model on Triton, log and return predictions."""
    if (body.entities is None) == (body.rows is None):
        from fastapi.exceptions import RequestValidationError

        message = "give exactly one of 'entities' (features looked up online) or 'rows' (raw features)"
        raise RequestValidationError([{"loc": ("body", "entities"), "msg": message, "type": "value_error"}])
    result = ws.deployments.predict(identifier(name, "name", kind="name"), body.entities, rows=body.rows)
    # Already JSON types (the entities' scalars, floats, ints, strings): skip FastAPI's recursive encoder,
    # which otherwise walks every prediction twice on the hot path.
    return JSONResponse(asdict(result))


@router.post("/deployments/{name}/rollback")
def rollback(name: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """Serve the version this deployment served before the current one."""
    return jsonable_encoder(ws.deployments.rollback(identifier(name, "name", kind="name")))


@router.delete("/deployments/{name}", status_code=204)
def delete(name: str, ws: Workspace = Depends(get_workspace)) -> Response:
    """Stop serving a deployment and forget it (the registered model stays)."""
    ws.deployments.delete(identifier(name, "name", kind="name"))
    return Response(status_code=204)
