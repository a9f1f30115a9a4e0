"""FastAPI app factory: ``create_app(workspace)`` builds the /api/v1 app for one workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

import shipyard
from shipyard.server.auth import require_token
from shipyard.server.errors import install_error_handlers
from shipyard.server.routers import deployments, features, health, metrics, models, monitor, pipelines
from shipyard.workspace import Workspace

API_PREFIX = "/api/v1"


def create_app(
    workspace: Workspace, *, serve_deployments: bool = False, close_on_shutdown: bool = True
) -> FastAPI:
    """Build the REST app; with ``serve_deployments`` Triton starts with the app and loads every deployment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if serve_deployments:
            await run_in_threadpool(workspace.deployments.ensure_serving)
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
    )
    app.state.workspace = workspace
    install_error_handlers(app)
    app.include_router(health.router, prefix=API_PREFIX)
    secured = [Depends(require_token)]
    for module in (features, pipelines, models, deployments, monitor):
        app.include_router(module.router, prefix=API_PREFIX, dependencies=secured)
    # Prometheus scrapes /metrics at the root; its labels name deployments, so it sits behind the token too.
    app.include_router(metrics.router, dependencies=secured)
    return app
