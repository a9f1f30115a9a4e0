"""FastAPI app factory: ``create_app(workspace)`` builds the /api/v1 app for one workspace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

import shipyard
from shipyard.errors import ShipyardError
from shipyard.server.auth import enforce_policy
from shipyard.server.errors import install_error_handlers
from shipyard.server.limits import BodySizeLimit
from shipyard.server.routers import (
    catalog,
    copilot,
    deployments,
    features,
    health,
    metrics,
    models,
    monitor,
    pipelines,
)
from shipyard.workspace import Workspace

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)

# Routers mounted under /api/v1. Every route needs an entry in governance/route_policy.py.
API_ROUTERS: list[ModuleType] = [health, features, pipelines, models, deployments, monitor, catalog, copilot]
# Routers mounted at the root (Prometheus scrapes /metrics there).
ROOT_ROUTERS: list[ModuleType] = [metrics]


def create_app(
    workspace: Workspace, *, serve_deployments: bool = False, close_on_shutdown: bool = True
) -> FastAPI:
    """Build the REST app; with ``serve_deployments`` Triton starts with the app and loads every deployment."""
    from shipyard.governance.service import governance_for

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if serve_deployments:
            try:
                await run_in_threadpool(workspace.deployments.ensure_serving)
            except ShipyardError as exc:
                # One deployment that cannot be served (or a Triton that cannot start) must not take the
                # catalog, features and copilot down with it: start, say why; its predictions answer 503/409.
                log.error("serving: %s (the server starts without it)", exc.message)
                app.state.serving_error = exc.message
        try:
            yield
        finally:
            if close_on_shutdown:
                await run_in_threadpool(workspace.close)

    app = FastAPI(
        title="Shipyard",
        version=shipyard.__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        # One app-wide dependency authorizes every route through the route policy table.
        dependencies=[Depends(enforce_policy)],
    )
    app.state.workspace = workspace
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=governance_for(workspace).settings.max_body_bytes)
    for module in API_ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    for module in ROOT_ROUTERS:
        app.include_router(module.router)
    return app
