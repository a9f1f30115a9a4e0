"""``/api/v1/catalog``: search, read, register, sync and enrich catalog assets (one service call per route)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["catalog"])

_MAX_ASSETS = 10_000


@router.get("/catalog/assets")
def search_assets(
    q: str = Query("", max_length=2000, description="words to match; empty lists assets"),
    kind: str | None = Query(None, max_length=40, description="only this kind, e.g. table"),
    limit: int = Query(20, ge=1, le=500),
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Assets matching ``q`` (name, title, description, tags, owner, columns), best first."""
    hits = ws.catalog.search(q, [kind] if kind else None, limit=limit)
    return {"assets": [{**jsonable_encoder(h.asset), "score": h.score} for h in hits]}


@router.get("/catalog/assets/{kind}/{name:path}")
def get_asset(kind: str, name: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """One asset with its direct lineage (edges in and out)."""
    return {
        **jsonable_encoder(ws.catalog.get(kind, name)),
        "lineage": jsonable_encoder(ws.catalog.lineage(kind, name, depth=1)),
    }


@router.get("/catalog/lineage/{kind}/{name:path}")
def lineage(
    kind: str,
    name: str,
    direction: Literal["up", "down", "both"] = "both",
    depth: int = Query(3, ge=1, le=10),
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Lineage edges around an asset: ``up`` what it comes from, ``down`` what uses it."""
    return {"edges": jsonable_encoder(ws.catalog.lineage(kind, name, direction=direction, depth=depth))}


class RegisterRequest(BaseModel):
    assets: list[Any] = Field(
        min_length=1, max_length=_MAX_ASSETS, description="asset documents, as in a catalog JSON Lines file"
    )
    partial: bool = Field(False, description="register the valid assets even when some are invalid")


@router.post("/catalog/assets")
def register(body: RegisterRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Create or update assets; without ``partial`` one invalid asset means nothing is written (422)."""
    return jsonable_encoder(ws.catalog.register(body.assets, partial=body.partial))


class SyncRequest(BaseModel):
    sources: list[str] | None = Field(None, max_length=10, description="default: every source")


@router.post("/catalog/sync")
def sync(body: SyncRequest | None = None, ws: Workspace = Depends(get_workspace)) -> Any:
    """Mirror Feast, MLflow, pipelines, deployments and monitor results; ``ok`` is false if a source failed."""
    return jsonable_encoder(ws.catalog.sync(body.sources if body else None))


class EnrichRequest(BaseModel):
    kinds: list[str] | None = Field(None, max_length=20)


@router.post("/catalog/enrich")
def enrich(body: EnrichRequest | None = None, ws: Workspace = Depends(get_workspace)) -> Any:
    """Draft descriptions for undocumented assets (``description_status`` "draft")."""
    return jsonable_encoder(ws.catalog.enrich(body.kinds if body else None))


@router.post("/catalog/assets/{kind}/{name:path}/accept")
def accept(kind: str, name: str, ws: Workspace = Depends(get_workspace)) -> Any:
    """Accept an asset's drafted description."""
    return jsonable_encoder(ws.catalog.accept(kind, name))
