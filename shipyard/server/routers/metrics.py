"""``GET /metrics``: the workspace's Prometheus series (prediction counts, latency, drift breaches, alerts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
def metrics(ws: Workspace = Depends(get_workspace)) -> Response:
    """Prometheus text exposition of this server's monitoring series."""
    body, content_type = ws.monitor.metrics.exposition()
    return Response(content=body, media_type=content_type)
