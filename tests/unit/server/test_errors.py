"""The error envelope: status, body, and the headers a status calls for (Retry-After on 503)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shipyard.errors import EngineUnavailable, NotFound, ShipyardError, Unauthorized
from shipyard.server.errors import DEFAULT_RETRY_AFTER_S, install_error_handlers


def _client(exc: ShipyardError) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app)


@pytest.mark.parametrize(
    ("exc", "status", "retry_after"),
    [
        (EngineUnavailable("Triton is restarting", detail={"retry_after_s": 3}), 503, "3"),
        (EngineUnavailable("Triton is restarting", detail={"retry_after_s": 2.4}), 503, "2"),
        (EngineUnavailable("MLflow is down"), 503, str(DEFAULT_RETRY_AFTER_S)),
        (EngineUnavailable("odd detail", detail={"retry_after_s": "soon"}), 503, str(DEFAULT_RETRY_AFTER_S)),
        (EngineUnavailable("negative", detail={"retry_after_s": -1}), 503, str(DEFAULT_RETRY_AFTER_S)),
        (NotFound("no such deployment"), 404, None),
    ],
    ids=["from detail", "rounded", "default", "non-numeric", "negative", "not 503"],
)
def test_retry_after_header(exc: ShipyardError, status: int, retry_after: str | None) -> None:
    response = _client(exc).get("/boom")
    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == exc.code and body["error"]["message"] == exc.message


def test_unauthorized_keeps_www_authenticate() -> None:
    response = _client(Unauthorized("no token")).get("/boom")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert "Retry-After" not in response.headers
