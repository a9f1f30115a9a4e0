"""The /catalog REST routes, mounted on a bare FastAPI app with Shipyard's error envelope."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shipyard.server.errors import install_error_handlers
from shipyard.server.routers import catalog
from shipyard.workspace import Workspace

TABLE = {
    "kind": "table",
    "name": "sales.transactions_clean",
    "description": "cleaned transaction history with refund flags",
    "owner": "payments",
    "columns": [
        {"name": "refund_flag", "type": "bool"},
        {"name": "email", "sensitive": True, "mask": "hash"},
    ],
}


@pytest.fixture()
def client(workspace: Workspace) -> TestClient:
    app = FastAPI()
    app.state.workspace = workspace
    install_error_handlers(app)
    app.include_router(catalog.router, prefix="/api/v1")
    return TestClient(app)


def test_register_search_show_lineage_and_accept(client: TestClient) -> None:
    feature = {
        "kind": "feature",
        "name": "tx:refunds_30d",
        "lineage": [{"kind": "table", "name": TABLE["name"], "relation": "derived_from"}],
    }
    r = client.post("/api/v1/catalog/assets", json={"assets": [TABLE, feature]})
    assert r.status_code == 200 and (r.json()["created"], r.json()["columns"]) == (2, 2)
    hits = client.get("/api/v1/catalog/assets", params={"q": "refund flags", "kind": "table"}).json()[
        "assets"
    ]
    assert hits[0]["name"] == TABLE["name"] and hits[0]["columns"][1]["mask"] == "hash"
    shown = client.get(f"/api/v1/catalog/assets/table/{TABLE['name']}").json()
    assert shown["owner"] == "payments"
    assert {(e["src_name"], e["relation"]) for e in shown["lineage"]} == {
        ("tx:refunds_30d", "derived_from"),
        ("sales.transactions_clean.refund_flag", "part_of"),
        ("sales.transactions_clean.email", "part_of"),
    }
    up = client.get("/api/v1/catalog/lineage/feature/tx:refunds_30d", params={"direction": "up"}).json()
    assert up["edges"][0]["dst_name"] == TABLE["name"]
    drafted = client.post("/api/v1/catalog/enrich", json={"kinds": ["feature"]}).json()
    assert [d["name"] for d in drafted["drafted"]] == ["tx:refunds_30d"]
    accepted = client.post("/api/v1/catalog/assets/feature/tx:refunds_30d/accept").json()
    assert accepted["description_status"] == "accepted"
    synced = client.post("/api/v1/catalog/sync", json={"sources": ["deployments"]}).json()
    assert synced["ok"] is True and synced["sources"][0]["source"] == "deployments"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"assets": [TABLE, {"kind": "table"}]}, 422, "missing field 'name'"),
        ({"assets": [{"kind": "wiki", "name": "x"}]}, 422, "unknown kind 'wiki'"),
        ({"assets": [TABLE, TABLE]}, 422, "duplicate table"),
        ({"assets": [{**TABLE, "description": "x" * 1_048_576}]}, 422, "the limit is 65536"),
        ({"assets": []}, 422, "assets"),
        ({"assets": "nope"}, 422, "assets"),
    ],
    ids=["missing-name", "unknown-kind", "duplicate", "1MB-description", "empty", "not-a-list"],
)
def test_bad_bodies_are_422_with_the_position_and_nothing_written(
    client: TestClient, workspace: Workspace, body: dict[str, object], status: int, needle: str
) -> None:
    r = client.post("/api/v1/catalog/assets", json=body)
    assert r.status_code == status and needle in r.json()["error"]["message"]
    assert workspace.catalog.list() == []


def test_partial_body_registers_the_good_assets(client: TestClient) -> None:
    r = client.post("/api/v1/catalog/assets", json={"assets": [{"kind": "table"}, TABLE], "partial": True})
    assert r.status_code == 200
    assert r.json()["created"] == 1 and r.json()["errors"] == [{"line": 1, "message": "missing field 'name'"}]


def test_missing_asset_and_bad_queries(client: TestClient) -> None:
    r = client.get("/api/v1/catalog/assets/table/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/catalog/assets", params={"kind": "wiki"}).status_code == 422
    assert client.get("/api/v1/catalog/lineage/table/x", params={"direction": "sideways"}).status_code == 422
    assert client.post("/api/v1/catalog/sync", json={"sources": ["kafka"]}).status_code == 422
