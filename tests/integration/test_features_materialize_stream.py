"""``POST /api/v1/features/materialize`` as JSON and as a ``text/event-stream`` of progress, on real Feast (SQLite).

A small churn workspace per module, served by ``create_app`` through Starlette's TestClient. Each failing case
asserts the error (envelope or ``error`` event) and that the registry and the online values are as before.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from shipyard.examples.churn import create_example_workspace
from shipyard.features.materialize import MaterializeProgress, MaterializeResult
from shipyard.features.quality import QualityGateFailed
from shipyard.server.app import create_app
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

URL = "/api/v1/features/materialize"
PROBE = [{"customer_id": 100_000}, {"customer_id": 100_001}]
REFS = ["customer_profile:monthly_charge", "customer_activity:spend_30d"]
CHECKED_VIEW = """
from datetime import timedelta
from feast import FeatureView, Field, FileSource
from feast.types import Float32
from definitions import DATA_DIR, customer

spend_source = FileSource(
    name="spend_source", path=str(DATA_DIR / "customer_activity.parquet"), timestamp_field="event_timestamp"
)
view = FeatureView(
    name="spend_checked",
    entities=[customer],
    ttl=timedelta(days=45),
    schema=[Field(name="spend_30d", dtype=Float32)],
    source=spend_source,
    owner="alice",
    tags={"quality.spend_30d": "range=0..100"},
)
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = create_example_workspace(tmp_path_factory.mktemp("stream") / "ws", customers=120)
    workspace = Workspace.open(root)
    workspace.features.apply()
    yield workspace
    workspace.close()


def _client(ws: Workspace) -> tuple[TestClient, dict[str, str]]:
    token = ws.tokens.create("materialize-test").secret
    return TestClient(create_app(ws, close_on_shutdown=False)), {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[tuple[TestClient, dict[str, str]]]:
    c, auth = _client(ws)
    with c:
        yield c, auth


def events(text: str) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a text/event-stream body."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def state(ws: Workspace) -> tuple[str, str]:
    """Registry bytes and online values: what a refused materialization may not change."""
    registry = hashlib.sha256((ws.state_dir / "feast" / "registry.db").read_bytes()).hexdigest()
    return registry, ws.features.online_features(PROBE, REFS).to_json()


@pytest.mark.parametrize("ask", ["body", "accept"])
def test_streamed_materialize_reports_each_view_then_done(
    client: tuple[TestClient, dict[str, str]], ws: Workspace, ask: str
) -> None:
    c, auth = client
    body: dict[str, Any] = {"start": "2000-01-01T00:00:00Z"}
    headers = dict(auth)
    if ask == "body":
        body["stream"] = True
    else:
        headers["Accept"] = "text/event-stream"
    r = c.post(URL, json=body, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    seen = events(r.text)
    views = sorted(v.name for v in ws.features.list_feature_views())
    assert seen[0] == ("progress", {"stage": "checked", "feature_view": None, "done": 0, "total": len(views)})
    assert seen[1:-1] == [
        ("progress", {"stage": "loaded", "feature_view": name, "done": i, "total": len(views)})
        for i, name in enumerate(views, start=1)
    ]
    event, done = seen[-1]
    assert event == "done" and done["feature_views"] == views
    assert set(done) == {"feature_views", "start", "end", "duration_s"}
    assert not ws.features.online_features(PROBE, REFS).isna().any().any()


def test_plain_materialize_still_answers_one_json_document(client: tuple[TestClient, dict[str, str]]) -> None:
    c, auth = client
    r = c.post(URL, json={}, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["feature_views"] == ["customer_activity", "customer_profile"]


def test_a_failing_quality_gate_is_an_error_event_and_writes_nothing(
    client: tuple[TestClient, dict[str, str]], ws: Workspace
) -> None:
    c, auth = client
    ws.features.define(CHECKED_VIEW)
    try:
        before = state(ws)
        r = c.post(URL, json={"start": "2000-01-01T00:00:00Z", "stream": True}, headers=auth)
        assert r.status_code == 200
        seen = events(r.text)
        assert [event for event, _ in seen] == ["error"]  # not even the "checked" step: the gate stopped it
        error = seen[0][1]["error"]
        assert error["code"] == "quality_gate_failed"
        assert "nothing was written to the online store" in error["message"]
        failure = error["detail"]["failures"][0]
        assert (failure["feature_view"], failure["feature"], failure["check"]) == (
            "spend_checked",
            "spend_30d",
            "range=0.0..100.0",
        )
        assert failure["offending_rows"] > 0
        assert state(ws) == before
        assert ws.features.online_features(PROBE, ["spend_checked:spend_30d"])["spend_30d"].isna().all()
        with pytest.raises(QualityGateFailed):  # the service's iterator raises what the stream reported
            list(ws.features.materialize_steps())
    finally:
        (ws.features.repo_dir / "cells" / "spend_checked.py").unlink()
        ws.features.apply()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, 422, "invalid_input"),
        ({"start": "yesterday"}, 422, "invalid_input"),
        ({"stream": "often"}, 422, "invalid_input"),
    ],
    ids=["start after end", "not a datetime", "stream not a boolean"],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_bad_arguments_are_refused_with_the_envelope_before_any_stream(
    client: tuple[TestClient, dict[str, str]],
    ws: Workspace,
    body: dict[str, Any],
    status: int,
    code: str,
    stream: bool,
) -> None:
    c, auth = client
    before = state(ws)
    headers = {**auth, "Accept": "text/event-stream"} if stream else auth
    r = c.post(URL, json=body, headers=headers)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == code
    assert state(ws) == before


def test_an_engine_failure_mid_stream_is_an_error_event(ws: Workspace, tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(ws.root, copy)
    broken = Workspace.open(copy)
    try:
        broken.features.apply()  # the copy's registry now names the copy's data files
        source = copy / "data" / "customer_activity.parquet"
        # The quality gate reads only checked columns and passes; Feast then misses an unchecked feature.
        pd.read_parquet(source).drop(columns=["spend_30d"]).to_parquet(source)
        c, auth = _client(broken)
        with c:
            r = c.post(URL, json={"start": "2000-01-01T00:00:00Z", "stream": True}, headers=auth)
        seen = events(r.text)
        assert r.status_code == 200 and seen[-1][0] == "error"
        assert seen[-1][1]["error"]["code"] == "operation_failed"
        assert "materialization failed" in seen[-1][1]["error"]["message"]
        assert "done" not in [event for event, _ in seen]
    finally:
        broken.close()


def test_the_service_yields_steps_then_the_result(ws: Workspace) -> None:
    steps = list(ws.features.materialize_steps())
    assert isinstance(steps[-1], MaterializeResult)
    assert all(isinstance(s, MaterializeProgress) for s in steps[:-1])
    assert [s.stage for s in steps[:-1]] == ["checked", "loaded", "loaded"]
