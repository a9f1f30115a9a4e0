"""``/api/v1/models``: registered models (MLflow registry) and their versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from shipyard.server.auth import get_workspace
from shipyard.server.routers._paths import ModelName
from shipyard.workspace import Workspace

router = APIRouter(tags=["models"])


@router.get("/models")
def list_models(ws: Workspace = Depends(get_workspace)) -> Any:
    """Registered models with their latest version and aliases."""
    return jsonable_encoder(ws.registry.list_models())


@router.get("/models/{name}/{ref}")
def resolve(name: ModelName, ref: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """A model version by alias (``champion``) or number."""
    return jsonable_encoder(ws.registry.resolve(name, ref))


class PromoteRequest(BaseModel):
    version: str = Field(min_length=1, max_length=40, description="candidate version number or alias")
    alias: str = Field("champion", min_length=1, max_length=100)
    gates: list[str] = Field(default_factory=list, max_length=20, description="e.g. ['auc>=0.8']")
    tolerance: float = Field(0.0, ge=0.0)


@router.post("/models/{name}/promote")
def promote(name: ModelName, body: PromoteRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Move an alias to a version through the promotion gates; scored on the candidate's reference sample."""
    return jsonable_encoder(
        ws.registry.promote(name, body.version, body.alias, body.gates or None, None, body.tolerance)
    )
