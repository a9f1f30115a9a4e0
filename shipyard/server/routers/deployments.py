"""``/api/v1/deployments``: deploy a registered model, list deployments, predict.

``POST /deployments`` answers JSON, or with ``Accept: text/event-stream`` a stream of ``event: stage``
(``{"stage", "state": "start"|"done"|"failed", "seconds"}``) then ``event: deployment`` (the same JSON) or
``event: error`` (the error envelope), so a dialog can show each deploy stage as it happens.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shipyard.governance.inputs import identifier
from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["deployments"])
log = logging.getLogger(__name__)


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


@router.post("/deployments", status_code=201, response_model=None)
def deploy(body: DeployRequest, request: Request, ws: Workspace = Depends(get_workspace)) -> Any:
    """Export, parity-check, serve on Triton and register a model version as a deployment."""
    if "text/event-stream" not in request.headers.get("accept", ""):
        return jsonable_encoder(ws.deployments.deploy(body.model, body.ref, body.name))
    ws.registry.resolve(body.model, body.ref)  # an unknown model or alias answers 404 before the stream
    return StreamingResponse(
        _deploy_events(ws, body),
        status_code=201,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


def _deploy_events(ws: Workspace, body: DeployRequest) -> Iterator[str]:
    from shipyard.errors import OperationFailed, ShipyardError

    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def progress(stage: str, state: str, seconds: float | None) -> None:
        events.put(("stage", {"stage": stage, "state": state, "seconds": seconds}))

    def work() -> None:
        # The deploy runs to completion even if the client goes away: a half-done deploy is worse.
        try:
            info = ws.deployments.deploy(body.model, body.ref, body.name, progress=progress)
            events.put(("deployment", jsonable_encoder(info)))
        except ShipyardError as exc:
            events.put(("error", exc.to_dict()))
        except Exception as exc:
            log.exception("deploy failed")
            events.put(("error", OperationFailed(f"deploy failed: {exc}").to_dict()))

    threading.Thread(target=work, name="shipyard-deploy", daemon=True).start()
    while True:
        event, data = events.get()
        yield f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
        if event != "stage":
            return


@router.post("/deployments/{name}/predict")
async def predict(name: str, body: PredictRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Look up online features for the entities, run the model on Triton, log and return predictions."""
    if (body.entities is None) == (body.rows is None):
        from fastapi.exceptions import RequestValidationError

        message = "give exactly one of 'entities' (features looked up online) or 'rows' (raw features)"
        raise RequestValidationError([{"loc": ("body", "entities"), "msg": message, "type": "value_error"}])
    # async route + one explicit hop: the blocking lookup and Triton call leave the event loop exactly once.
    result = await run_in_threadpool(
        ws.deployments.predict, identifier(name, "name", kind="name"), body.entities, rows=body.rows
    )
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
