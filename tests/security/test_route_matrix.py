"""Every route x every role x own/other project -> expected status, generated from the app's OpenAPI.

Routes run against a probe workspace (every service access answers 418) so an allowed request proves it
passed authorization without starting Feast, MLflow or Triton; body validation (422) also comes after it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from shipyard.errors import ShipyardError
from shipyard.governance.roles import Role, required_role
from shipyard.governance.route_policy import ROUTE_POLICIES, policy_for
from shipyard.server.app import create_app
from shipyard.server.auth import get_workspace
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace

from .conftest import ROLES, GovEnv

ALLOWED = {418, 422}


class ProbeReached(ShipyardError):
    code = "probe"
    http_status = 418


class _ProbeWorkspace:
    """Stands in for the workspace inside routes: any service access proves the route was reached."""

    def __getattr__(self, name: str) -> Any:
        raise ProbeReached(f"route reached workspace.{name}")


def full_app(ws: Workspace) -> FastAPI:
    """``create_app`` plus every router module not mounted yet, so a new router is in the matrix at once."""
    import importlib
    import pkgutil

    import shipyard.server.routers as package
    from shipyard.server.app import API_PREFIX, API_ROUTERS, ROOT_ROUTERS

    app = create_app(ws, close_on_shutdown=False)
    mounted = {m.__name__ for m in API_ROUTERS + ROOT_ROUTERS}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if module.__name__ not in mounted and hasattr(module, "router"):
            app.include_router(module.router, prefix=API_PREFIX)
    return app


def openapi_routes() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation the app (and every router module) publishes."""
    with tempfile.TemporaryDirectory() as tmp:
        ws_root = init_workspace(Path(tmp) / "ws", project="p").root
        with Workspace.open(ws_root) as ws:
            schema = full_app(ws).openapi()
    return sorted(
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    )


ROUTES = openapi_routes()


@pytest.fixture()
def probe_client(gov_env: GovEnv) -> Iterator[TestClient]:
    app = full_app(gov_env.ws)
    app.dependency_overrides[get_workspace] = _ProbeWorkspace
    with TestClient(app) as c:
        yield c


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_openapi_lists_every_route_we_expect() -> None:
    assert ("POST", "/api/v1/features/online") in ROUTES
    assert ("DELETE", "/api/v1/deployments/{name}") in ROUTES
    assert len(ROUTES) >= 30


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_published_route_has_a_policy(method: str, path: str) -> None:
    policy = policy_for(method, path)
    assert policy is not None, f"{method} {path} has no entry in governance/route_policy.py"
    required_role(policy.action)  # the action itself is known


def test_policy_table_has_no_stale_entries() -> None:
    published = set(ROUTES) | {("GET", "/metrics")}
    assert set(ROUTE_POLICIES) <= published


@pytest.mark.parametrize(("method", "path"), ROUTES + [("GET", "/metrics")])
def test_matrix(probe_client: TestClient, gov_env: GovEnv, method: str, path: str) -> None:
    policy = policy_for(method, path)
    assert policy is not None
    needed = required_role(policy.action)
    url = _url(path)
    outcomes = {}
    for who in (*ROLES, "outsider", "init", "none"):
        headers = {} if who == "none" else gov_env.headers(who)
        r = probe_client.request(method, url, headers=headers, json={})
        outcomes[who] = r.status_code
    if needed is None:
        assert all(s == 200 for s in outcomes.values()), outcomes
        return
    for role in ROLES:
        expected = ALLOWED if Role[role] >= needed else {403}
        assert outcomes[role] in expected, (role, outcomes)
    assert outcomes["init"] in ALLOWED, outcomes  # `shipyard init`'s token: admin of its project
    assert outcomes["outsider"] == (404 if policy.hide else 403), outcomes
    assert outcomes["none"] == 401, outcomes


def test_a_route_without_a_policy_is_refused(gov_env: GovEnv) -> None:
    app: FastAPI = create_app(gov_env.ws, close_on_shutdown=False)
    extra = APIRouter()

    @extra.get("/unlisted")
    def unlisted() -> dict[str, str]:
        return {"leak": "yes"}

    app.include_router(extra, prefix="/api/v1")
    with TestClient(app) as c:
        r = c.get("/api/v1/unlisted", headers=gov_env.headers("admin"))
    assert r.status_code == 403
    assert "no authorization policy" in r.json()["error"]["message"]
