"""REST surface: auth on every route but health, the error envelope, validation errors naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shipyard.server.app import create_app
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace


@pytest.fixture()
def client_and_token(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    result = init_workspace(tmp_path / "ws", project="t")
    ws = Workspace.open(result.root)
    with TestClient(create_app(ws)) as client:
        yield client, result.token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_token(client_and_token: tuple[TestClient, str]) -> None:
    client, _ = client_and_token
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_openapi_lists_the_v1_routes(client_and_token: tuple[TestClient, str]) -> None:
    client, _ = client_and_token
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/deployments/{name}/predict" in paths
    assert "/api/v1/monitor/drift" in paths


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer shp_wrong"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/deployments"), ("post", "/api/v1/deployments/x/predict"), ("get", "/api/v1/models")],
)
def test_wrong_or_missing_token_is_401_with_envelope(
    client_and_token: tuple[TestClient, str], headers: dict[str, str], method: str, path: str
) -> None:
    client, _ = client_and_token
    r = client.request(method, path, headers=headers, json={"entities": [{"customer_id": 1}]})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_refused_on_the_next_request(client_and_token: tuple[TestClient, str]) -> None:
    client, token = client_and_token
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    assert client.get("/api/v1/pipelines", headers=auth(token)).status_code == 200
    ws.tokens.revoke(token[:10])
    assert client.get("/api/v1/pipelines", headers=auth(token)).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ({"entities": []}, "body.entities"),
        ({"entities": "x"}, "body.entities"),
        ({}, "body.entities"),
        ({"entities": [{"customer_id": 1}], "rows": [{"x": 1.0}]}, "body.entities"),
        ({"rows": []}, "body.rows"),
    ],
)
def test_malformed_predict_body_is_422_naming_the_field(
    client_and_token: tuple[TestClient, str], body: object, field: str
) -> None:
    client, token = client_and_token
    headers = {**auth(token), "Content-Type": "application/json"}
    if isinstance(body, str):
        r = client.post("/api/v1/deployments/churn/predict", content=body, headers=headers)
    else:
        r = client.post("/api/v1/deployments/churn/predict", json=body, headers=headers)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_input"
    assert any(d["field"].startswith(field) for d in err["detail"])


@pytest.mark.parametrize(
    ("body", "field"),
    [({"model": "", "ref": "champion"}, "body.model"), ({"model": "m", "name": "../x"}, "body.name")],
)
def test_bad_deploy_body_is_422(client_and_token: tuple[TestClient, str], body: dict, field: str) -> None:
    client, token = client_and_token
    r = client.post("/api/v1/deployments", json=body, headers=auth(token))
    assert r.status_code == 422
    assert any(d["field"] == field for d in r.json()["error"]["detail"])


def test_paths_outside_the_workspace_are_refused(client_and_token: tuple[TestClient, str]) -> None:
    client, token = client_and_token
    r = client.post(
        "/api/v1/monitor/drift",
        json={"reference": "../../etc/passwd", "current": "x.csv"},
        headers=auth(token),
    )
    assert r.status_code == 422
    assert "outside the workspace" in r.json()["error"]["message"]


def test_unknown_route_uses_the_envelope(client_and_token: tuple[TestClient, str]) -> None:
    client, token = client_and_token
    r = client.get("/api/v1/nope", headers=auth(token))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_whoami_names_the_token_and_its_role_in_the_servers_project(
    client_and_token: tuple[TestClient, str],
) -> None:
    client, token = client_and_token
    assert client.get("/api/v1/whoami").status_code == 401
    me = client.get("/api/v1/whoami", headers=auth(token))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["project"] == "t" and body["role"] == "admin"
    assert body["name"] and body["kind"] != "anonymous"


def test_server_starts_when_a_deployment_cannot_be_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shipyard.errors import OperationFailed

    result = init_workspace(tmp_path / "ws", project="t")
    ws = Workspace.open(result.root)

    def broken() -> None:
        raise OperationFailed("some deployments could not be served: churn: model churn v9 not found")

    monkeypatch.setattr(ws.deployments, "ensure_serving", broken)
    with caplog.at_level("ERROR", logger="shipyard.server.app"):
        with TestClient(create_app(ws, serve_deployments=True)) as client:
            assert client.get("/api/v1/health").status_code == 200
            assert client.get("/api/v1/whoami", headers=auth(result.token)).json()["project"] == "t"
            assert "churn v9 not found" in client.app.state.serving_error  # type: ignore[attr-defined]
    assert "the server starts without it" in caplog.text and "churn v9" in caplog.text
