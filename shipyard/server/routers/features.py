"""``/api/v1/features``: list, search, describe, define, apply, materialize and read online features (Feast).

Online reads are bounded at ``MAX_ONLINE_ENTITIES`` (10,000) entity rows per request: a larger request is
refused with 413 and the error envelope, rather than batched, so one caller cannot hold the store's lock for
seconds and every caller sees the same latency. Clients batch on their side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shipyard.server.auth import current_principal, get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["features"])


class MaterializeRequest(BaseModel):
    start: datetime | None = None
    end: datetime | None = None


class DefineRequest(BaseModel):
    code: str | None = Field(
        None, description="Feast Python definitions (the body of a %%feature define cell)"
    )
    yaml: str | None = Field(None, description="a YAML spec instead of code (schema: docs/features.md)")
    name: str | None = Field(None, description="name the definition is kept under (default: first view)")
    apply: bool = Field(True, description="false: only return Feast's plan")


class OnlineRequest(BaseModel):
    # No max_length here: the service's bound answers 413 with the envelope, the same for every surface.
    entities: list[dict[str, Any]] = Field(min_length=1)
    feature_service: str | None = Field(None, description="name of a Feast feature service")
    features: list[str] | None = Field(None, description="'view:feature' references")


@router.get("/features/views")
def list_views(ws: Workspace = Depends(get_workspace)) -> Any:
    """Feature views with their entities and features."""
    return jsonable_encoder(ws.features.list_feature_views())


@router.get("/features/search")
def search(
    q: str = Query("", description="words to look for"),
    limit: int = Query(20, ge=1, le=200),
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Feature views and features matching ``q``, best first."""
    return jsonable_encoder(ws.features.search(q, limit))


@router.get("/features/views/{name}")
def describe(name: str, stats: bool = True, ws: Workspace = Depends(get_workspace)) -> Any:
    """One feature view: schema, owner, source, TTL, freshness, availability, offline stats, lineage."""
    from shipyard.governance.inputs import identifier

    return jsonable_encoder(ws.features.describe(identifier(name, "name", kind="view"), with_stats=stats))


@router.post("/features/define")
def define(body: DefineRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Validate Python definitions or a YAML spec, return Feast's plan and (unless apply=false) apply them."""
    from shipyard.errors import InvalidInput

    if (body.code is None) == (body.yaml is None):
        raise InvalidInput("give exactly one of 'code' (Feast Python) or 'yaml' (a YAML spec)")
    if body.yaml is not None:
        return jsonable_encoder(ws.features.define_yaml(body.yaml, body.name, apply=body.apply))
    return jsonable_encoder(ws.features.define(str(body.code), body.name, apply=body.apply))


@router.post("/features/apply")
def apply(ws: Workspace = Depends(get_workspace)) -> Any:
    """Apply the workspace's Feast repository (like `feast apply`)."""
    return jsonable_encoder(ws.features.apply())


@router.post("/features/materialize")
def materialize(body: MaterializeRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Run the quality gate, then load feature values into the online store."""
    return jsonable_encoder(ws.features.materialize(body.start, body.end))


@router.post("/features/online")
def online(body: OnlineRequest, request: Request, ws: Workspace = Depends(get_workspace)) -> Any:
    """Online feature values for entity rows; sensitive columns are masked unless the caller has a grant."""
    from shipyard.errors import InvalidInput
    from shipyard.governance.inputs import feature_ref
    from shipyard.governance.masking import guarded_read

    if bool(body.feature_service) == bool(body.features):
        raise InvalidInput("give exactly one of 'feature_service' or 'features'")
    refs = [feature_ref(r) for r in body.features] if body.features else None
    refs = refs or ws.features.feature_refs(str(body.feature_service))
    rows = guarded_read(
        ws,
        current_principal(request),
        request.state.project,
        refs,
        lambda: ws.features.online_records(body.entities, refs),
    )
    # A Response skips FastAPI's jsonable_encoder walk, ~5x the cost of json.dumps on 100 x 50 values.
    return JSONResponse({"rows": rows})
