"""``/api/v1/pipelines:promote`` (preview, ``?apply=true``), show and runs routes, through the real app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from fastapi.testclient import TestClient
from nbformat import v4

from shipyard.server.app import create_app
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace

CELLS = [("rows = 3", ["parameters"]), ("a = rows", ["step:load"]), ("b = a * 2", ["step:train"])]


def _nb() -> dict[str, Any]:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in CELLS])
    return json.loads(nbformat.writes(nb))


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Workspace]]:
    result = init_workspace(tmp_path / "ws", project="t")
    ws = Workspace.open(result.root)
    (ws.root / "nb.ipynb").write_text(json.dumps(_nb()))
    with TestClient(create_app(ws)) as client:
        yield client, {"Authorization": f"Bearer {result.token}"}, ws
    ws.close()


def test_promote_previews_by_default_and_writes_with_apply(api: Any) -> None:
    client, headers, ws = api
    r = client.post("/api/v1/pipelines:promote", json={"notebook": "nb.ipynb", "name": "p"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["applied"] is False
    assert [s["name"] for s in body["steps"]] == ["load", "train"]
    assert body["edges"] == [["load", "train"]] and body["parameters"] == {"rows": 3}
    assert body["warnings"] == [] and body["diff"]["new"] is True
    assert not (ws.root / "pipelines" / "p").exists()
    r = client.post(
        "/api/v1/pipelines:promote?apply=true", json={"notebook": "nb.ipynb", "name": "p"}, headers=headers
    )
    assert r.status_code == 200 and r.json()["applied"] is True
    assert (ws.root / "pipelines" / "p" / "definitions.py").is_file()
    shown = client.get("/api/v1/pipelines/p", headers=headers).json()
    assert [s["name"] for s in shown["steps"]] == ["load", "train"]
    assert client.get("/api/v1/pipelines/p/runs", headers=headers).json() == {"runs": []}


def test_promote_accepts_notebook_content_and_cell_ids(api: Any) -> None:
    client, headers, ws = api
    content = _nb()
    ids = [content["cells"][1]["id"]]
    r = client.post(
        "/api/v1/pipelines:promote", json={"content": content, "name": "sel", "cells": ids}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert [s["name"] for s in r.json()["steps"]] == ["load"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"name": "p"}, 422, "notebook"),
        ({"notebook": "../outside.ipynb", "name": "p"}, 422, "outside the workspace"),
        ({"notebook": "missing.ipynb", "name": "p"}, 404, "does not exist"),
        ({"content": {"nbformat": 4, "cells": "x"}, "name": "p"}, 422, "not a valid nbformat"),
        ({"content": "{oops", "name": "p"}, 422, "not valid JSON"),
        ({"notebook": "nb.ipynb", "name": "bad name"}, 422, "name"),
    ],
)
def test_bad_promote_requests_are_4xx_with_the_envelope_and_write_nothing(
    api: Any, body: dict[str, Any], status: int, needle: str
) -> None:
    client, headers, ws = api
    for suffix in ("", "?apply=true"):
        r = client.post(f"/api/v1/pipelines:promote{suffix}", json=body, headers=headers)
        assert r.status_code == status, r.text
        assert needle in json.dumps(r.json()["error"])
    assert not (ws.root / "pipelines").exists() or not any((ws.root / "pipelines").iterdir())


def test_unknown_pipeline_is_404(api: Any) -> None:
    client, headers, _ = api
    assert client.get("/api/v1/pipelines/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/pipelines/nope/runs", headers=headers).status_code == 404
    r = client.post("/api/v1/pipelines/nope/runs", json={"params": {}}, headers=headers)
    assert r.status_code == 404 and "promote" in r.json()["error"]["message"]


def test_the_promote_route_is_in_openapi(api: Any) -> None:
    client, _, _ = api
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/pipelines:promote" in paths and "/api/v1/pipelines/{name}/runs" in paths
