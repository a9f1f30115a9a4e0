"""The one place that maps errors to HTTP responses: ``{"error": {"code", "message", "detail"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shipyard.errors import ShipyardError

DEFAULT_RETRY_AFTER_S = 5


def envelope(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    """The error response: the envelope body, plus the headers its status calls for."""
    body = {"error": {"code": code, "message": message, "detail": jsonable_encoder(detail)}}
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        # RFC 9110: tells clients (and load balancers) when an engine that is restarting should be back.
        headers["Retry-After"] = str(retry_after_s(detail))
    return JSONResponse(status_code=status, content=body, headers=headers or None)


def retry_after_s(detail: Any) -> int:
    """Seconds to wait before retrying: ``detail["retry_after_s"]`` when the error says, else a default."""
    value = detail.get("retry_after_s") if isinstance(detail, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return max(1, int(round(value)))
    return DEFAULT_RETRY_AFTER_S


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers for Shipyard errors, request validation and plain HTTP errors."""

    @app.exception_handler(ShipyardError)
    async def _shipyard(_: Request, exc: ShipyardError) -> JSONResponse:
        return envelope(exc.http_status, exc.code, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            fields.append({"field": ".".join(loc), "message": err.get("msg", "")})
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "invalid request"
        return envelope(422, "invalid_input", summary, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return envelope(exc.status_code, code, str(exc.detail))
