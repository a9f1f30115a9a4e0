"""``/api/v1/features``: list, apply, materialize and read online features (Feast)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["features"])


class MaterializeRequest(BaseModel):
    start: datetime | None = None
    end: datetime | None = None


class OnlineRequest(BaseModel):
    entities: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    feature_service: str | None = Field(None, description="name of a Feast feature service")
    features: list[str] | None = Field(None, description="'view:feature' references")


@router.get("/features/views")
def list_views(ws: Workspace = Depends(get_workspace)) -> Any:
    """Feature views with their entities and features."""
    return jsonable_encoder(ws.features.list_feature_views())


@router.post("/features/apply")
def apply(ws: Workspace = Depends(get_workspace)) -> Any:
    """Apply the workspace's Feast repository (like `feast apply`)."""
    return jsonable_encoder(ws.features.apply())


@router.post("/features/materialize")
def materialize(body: MaterializeRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Load feature values into the online store."""
    return jsonable_encoder(ws.features.materialize(body.start, body.end))


@router.post("/features/online")
def online(body: OnlineRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Online feature values for entity rows, from a feature service or explicit references."""
    from shipyard.errors import InvalidInput

    if bool(body.feature_service) == bool(body.features):
        raise InvalidInput("give exactly one of 'feature_service' or 'features'")
    refs = body.features or ws.features.feature_refs(str(body.feature_service))
    frame = ws.features.online_features(body.entities, refs)
    return {
        "rows": jsonable_encoder(frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))
    }
