"""Tornado handlers of the server extension: ``/shipyard/status`` and the ``/shipyard/api/v1/...`` bridge.

The bridge calls the in-process FastAPI app as an ASGI application, so every route, its validation and its
error envelope are the REST API's own; the browser never sees a Shipyard token. Jupyter authenticates the
request (cookie or token) and enforces XSRF on writes; the bridge then adds the bearer token it keeps for
that Jupyter user. Response bodies are written as the app sends them, so ``text/event-stream`` streams.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from jupyter_server.base.handlers import APIHandler
from tornado import web

from shipyard.errors import NotFound, ShipyardError
from shipyard.jupyter_ext.server_extension import STATE_KEY, LabState

T = TypeVar("T")

# Request headers the API may see; the browser's cookies and Jupyter's own Authorization never go through.
_FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language", "user-agent")
# Hop-by-hop or length headers that Tornado computes itself for the (possibly chunked) response.
_DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}
_STATUS_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


class ShipyardHandler(APIHandler):
    """Base: Jupyter's auth, and errors written as the Shipyard envelope ``{"error": {...}}``."""

    @property
    def shipyard(self) -> LabState:
        state: LabState = self.settings[STATE_KEY]
        return state

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (workspace open, token create) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def write_envelope(self, status: int, code: str, message: str, detail: Any = None) -> None:
        """Finish the request with the REST API's error envelope."""
        self.clear_header("Content-Length")
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"code": code, "message": message, "detail": detail}}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's errors (not logged in, XSRF missing) in the envelope, saying what to do."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        reason = getattr(exc, "log_message", None) or self._reason
        if status_code == 403:
            reason = (
                f"{reason}: the request carries no valid Jupyter login or XSRF token; reload JupyterLab "
                "(log in again if asked) and retry"
            )
        self.write_envelope(status_code, _STATUS_CODES.get(status_code, "http_error"), str(reason))


class StatusHandler(ShipyardHandler):
    """``GET /shipyard/status``: the workspace this server serves, or why there is none."""

    @web.authenticated
    async def get(self) -> None:
        self.finish(json.dumps(await self.run_sync(self.shipyard.status)))


class ApiProxyHandler(ShipyardHandler):
    """``/shipyard/api/v1/{path}`` → the Shipyard API's ``/api/v1/{path}``, in-process."""

    @web.authenticated
    async def get(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def post(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def put(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def patch(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def delete(self, path: str) -> None:
        await self._forward(path)

    def _user(self) -> str:
        # Jupyter invents a fresh anonymous user for every token-authenticated request (no login cookie):
        # those all act as the holder of the server token, so they share one Shipyard token.
        if self.token_authenticated:
            return "server-token"
        user = self.current_user
        return str(getattr(user, "username", None) or user)

    async def _forward(self, path: str) -> None:
        try:
            app = await self.run_sync(self.shipyard.app)
            token = await self.run_sync(self.shipyard.token_for, self._user())
        except NotFound as exc:
            # No workspace encloses the Jupyter root: the API is unavailable here, not a missing resource.
            self.write_envelope(503, "no_workspace", exc.message)
            return
        except ShipyardError as exc:
            self.write_envelope(exc.http_status, exc.code, exc.message)
            return
        await _AsgiCall(self, f"/api/v1/{path}", token).run(app)


class _AsgiCall:
    """One request through the ASGI app, its response written to the Tornado handler as it comes."""

    def __init__(self, handler: ShipyardHandler, path: str, token: str) -> None:
        self.handler = handler
        self.path = path
        self.token = token
        self.started = False
        self.body_sent = False
        self.done = asyncio.Event()

    def scope(self) -> dict[str, Any]:
        request = self.handler.request
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers.get_all()
            if name.lower() in _FORWARDED_REQUEST_HEADERS
        ]
        headers.append((b"host", (request.host or "localhost").encode("latin-1")))
        headers.append((b"authorization", f"Bearer {self.token}".encode("latin-1")))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": quote(self.path, safe="/:@!$&'()*+,;=").encode("ascii"),
            "query_string": (request.query or "").encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": (request.remote_ip or "127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
        }

    async def receive(self) -> dict[str, Any]:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.handler.request.body or b"", "more_body": False}
        # Streaming responses listen for the client leaving; that is the end of the Tornado request here.
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        handler = self.handler
        if message["type"] == "http.response.start":
            self.started = True
            handler.set_status(int(message["status"]))
            handler.clear_header("Content-Type")
            seen: set[str] = set()
            for raw_name, raw_value in message.get("headers", []):
                name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                if name.lower() in _DROPPED_RESPONSE_HEADERS:
                    continue
                if name.lower() in seen:
                    handler.add_header(name, value)
                else:
                    handler.set_header(name, value)
                    seen.add(name.lower())
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                handler.write(body)
            if message.get("more_body", False):
                await handler.flush()

    async def run(self, app: Any) -> None:
        try:
            await app(self.scope(), self.receive, self.send)
        except Exception as exc:
            # The app's own middleware already answered 500 when it could; only a bare crash lands here.
            self.handler.log.exception("Shipyard API failed on %s", self.path)
            if not self.started:
                self.handler.write_envelope(500, "operation_failed", f"{type(exc).__name__}: {exc}")
                return
        finally:
            self.done.set()
        if not self.handler._finished:
            self.handler.finish()
