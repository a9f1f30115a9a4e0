"""The server extension in a real Jupyter Server (pytest-jupyter): auth, XSRF, envelope, streaming, no workspace.

pytest-jupyter's fixtures are imported into this module only (not registered as a plugin), so its autouse
fixtures do not reach the rest of the suite; the tests drive its event loop themselves.
"""
# Fixtures imported by name are "redefined" by every test argument that requests them.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_core import (  # noqa: F401  (fixtures)
    echo_kernel_spec,
    jp_asyncio_loop,
    jp_config_dir,
    jp_data_dir,
    jp_env_config_path,
    jp_env_jupyter_path,
    jp_environ,
    jp_home_dir,
    jp_kernel_dir,
    jp_runtime_dir,
    jp_system_config_path,
    jp_system_jupyter_path,
)
from pytest_jupyter.jupyter_server import (  # noqa: F401  (fixtures)
    jp_argv,
    jp_auth_header,
    jp_base_url,
    jp_configurable_serverapp,
    jp_fetch,
    jp_http_port,
    jp_logging_stream,
    jp_nbconvert_templates,
    jp_server_cleanup,
    jp_serverapp,
    jp_template_dir,
    jp_web_app,
)
from pytest_jupyter.pytest_tornasync import http_server, http_server_client, http_server_port  # noqa: F401
from tornado.httpclient import HTTPClientError, HTTPResponse
from traitlets.config import Config

from shipyard.jupyter_ext.server_extension import STATE_KEY, LabState, _jupyter_server_extension_points

Fetch = Callable[..., HTTPResponse]


@pytest.fixture
def jp_root_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The Jupyter root: a Shipyard workspace, or (param "bare") a folder with no shipyard.toml above it."""
    if getattr(request, "param", "workspace") == "bare":
        bare = tmp_path / "bare"
        bare.mkdir()
        return bare
    from shipyard.workspace_init import init_workspace

    return init_workspace(tmp_path / "ws", project="test").root


@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"shipyard.jupyter_ext.server_extension": True}}})


@pytest.fixture
def fetch(jp_fetch: Any, jp_asyncio_loop: asyncio.AbstractEventLoop) -> Fetch:
    """jp_fetch, run to completion; errors come back as the response (status + envelope), not raised."""

    def _fetch(*parts: str, **kwargs: Any) -> HTTPResponse:
        try:
            return jp_asyncio_loop.run_until_complete(jp_fetch(*parts, **kwargs))
        except HTTPClientError as exc:
            assert exc.response is not None, exc
            return exc.response

    return _fetch


@pytest.fixture
def state(jp_serverapp: Any) -> Iterator[LabState]:
    lab_state: LabState = jp_serverapp.web_app.settings[STATE_KEY]
    yield lab_state
    lab_state.close()


def _error(response: HTTPResponse) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error


def test_extension_point_names_this_module() -> None:
    assert _jupyter_server_extension_points() == [{"module": "shipyard.jupyter_ext.server_extension"}]


def test_jupyter_config_enables_the_extension() -> None:
    config = Path(__file__).parents[3] / "jupyter-config" / "jupyter_server_config.d" / "shipyard.json"
    enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {"shipyard.jupyter_ext.server_extension": True}


def test_status_names_the_workspace(fetch: Fetch, state: LabState, jp_root_dir: Path) -> None:
    response = fetch("shipyard", "status")
    assert response.code == 200
    body = json.loads(response.body)
    assert body["workspace"] == str(jp_root_dir.resolve())
    assert body["api"] == "/shipyard/api/v1" and body["message"] is None


def test_api_call_goes_through_with_one_token_per_user(fetch: Fetch, state: LabState) -> None:
    for _ in range(2):
        response = fetch("shipyard", "api", "v1", "pipelines")
        assert response.code == 200
        assert json.loads(response.body) == {"pipelines": []}
    assert state._workspace is not None
    names = [t.name for t in state._workspace.tokens.list() if t.name.startswith("jupyter:")]
    assert len(names) == 1, names


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "shipyard/status", None),
        ("GET", "shipyard/api/v1/pipelines", None),
        ("POST", "shipyard/api/v1/pipelines/promote", "{}"),
    ],
)
def test_unauthenticated_request_is_refused_with_envelope(
    fetch: Fetch, state: LabState, method: str, path: str, body: str | None
) -> None:
    response = fetch(*path.split("/"), method=method, body=body, headers={"Authorization": ""})
    assert response.code == 403
    error = _error(response)
    assert error["code"] == "forbidden"
    assert "log in" in error["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("pipelines/nope", None, 404, "not_found"),
        ("pipelines/promote", "{}", 422, "invalid_input"),
        ("pipelines:promote", '{"notebook": "../outside.ipynb"}', 422, "invalid_input"),
        ("no/such/route", None, 404, "not_found"),
    ],
)
def test_api_errors_keep_the_rest_envelope(
    fetch: Fetch, state: LabState, path: str, body: str | None, status: int, code: str
) -> None:
    method = "GET" if body is None else "POST"
    response = fetch("shipyard", "api", "v1", *path.split("/"), method=method, body=body)
    assert response.code == status
    error = _error(response)
    assert error["code"] == code and error["message"]


def _login_cookie(http_server_client: Any, jp_asyncio_loop: Any, jp_serverapp: Any, base: str) -> str:
    """Log in as a browser does (token once in the URL); return the login cookie Jupyter sets."""
    token = jp_serverapp.identity_provider.token
    response = jp_asyncio_loop.run_until_complete(
        http_server_client.fetch(f"{base}shipyard/status?token={token}", raise_error=False)
    )
    assert response.code == 200
    cookies = [c.split(";")[0] for c in response.headers.get_list("Set-Cookie") if "username" in c]
    assert cookies, response.headers
    return cookies[0]


@pytest.mark.parametrize("with_xsrf", [False, True])
def test_cookie_login_post_needs_xsrf(
    http_server_client: Any,
    jp_asyncio_loop: Any,
    jp_serverapp: Any,
    jp_base_url: str,
    state: LabState,
    with_xsrf: bool,
) -> None:
    cookie = _login_cookie(http_server_client, jp_asyncio_loop, jp_serverapp, jp_base_url)
    headers = {"Cookie": cookie, "Content-Type": "application/json"}
    if with_xsrf:
        headers["Cookie"] += "; _xsrf=shipyard-test-xsrf"
        headers["X-XSRFToken"] = "shipyard-test-xsrf"
    response = jp_asyncio_loop.run_until_complete(
        http_server_client.fetch(
            f"{jp_base_url}shipyard/api/v1/pipelines/promote",
            method="POST",
            body="{}",
            headers=headers,
            raise_error=False,
        )
    )
    error = _error(response)
    if with_xsrf:
        # Through Jupyter's checks: the API itself answers (the body lacks a notebook).
        assert (response.code, error["code"]) == (422, "invalid_input")
    else:
        assert (response.code, error["code"]) == (403, "forbidden")
        assert "xsrf" in error["message"].lower()


@pytest.mark.parametrize("jp_root_dir", ["bare"], indirect=True)
def test_no_workspace_gives_a_clear_state(fetch: Fetch, state: LabState, jp_root_dir: Path) -> None:
    status = json.loads(fetch("shipyard", "status").body)
    assert status["workspace"] is None
    assert "shipyard.toml" in status["message"] and "shipyard init" in status["message"]
    response = fetch("shipyard", "api", "v1", "pipelines")
    assert response.code == 503
    error = _error(response)
    assert error["code"] == "no_workspace" and str(jp_root_dir.resolve()) in error["message"]


def test_event_stream_is_passed_through_as_it_is_produced(
    http_server_client: Any,
    jp_asyncio_loop: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    state: LabState,
) -> None:
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    state.app()  # opens the real workspace; the route below stands in for a streaming one
    app = FastAPI()

    @app.get("/api/v1/stream")
    async def stream() -> StreamingResponse:
        async def events() -> Any:
            for i in range(3):
                yield f"event: token\ndata: {json.dumps({'text': str(i)})}\n\n"
                await asyncio.sleep(0.3)

        return StreamingResponse(events(), media_type="text/event-stream")

    state._app = app
    arrivals: list[tuple[float, bytes]] = []
    response = jp_asyncio_loop.run_until_complete(
        http_server_client.fetch(
            f"{jp_base_url}shipyard/api/v1/stream",
            headers=jp_auth_header,
            streaming_callback=lambda chunk: arrivals.append((time.monotonic(), chunk)),
        )
    )
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    body = b"".join(chunk for _, chunk in arrivals).decode()
    assert body.count("event: token") == 3
    # Chunks arrive as produced, not all at once at the end.
    assert len(arrivals) >= 2 and arrivals[-1][0] - arrivals[0][0] > 0.4
