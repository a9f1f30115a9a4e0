"""``/api/v1/models``: registered models (MLflow registry) and their versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder

from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["models"])


@router.get("/models")
def list_models(ws: Workspace = Depends(get_workspace)) -> Any:
    """Registered models with their latest version and aliases."""
    return jsonable_encoder(ws.registry.list_models())


@router.get("/models/{name}/{ref}")
def resolve(name: str, ref: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """A model version by alias (``champion``) or number."""
    return jsonable_encoder(ws.registry.resolve(name, ref))
