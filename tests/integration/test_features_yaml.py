"""YAML feature specs, catalog attributes and materialize progress on real Feast (SQLite online), every surface.

Each bad spec asserts a clear error naming line/field and that the registry, the repo's files and the online
values are exactly as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shipyard.cli.features_cmd import app as features_cli
from shipyard.errors import Conflict, InvalidInput, ShipyardError
from shipyard.examples.churn import create_example_workspace
from shipyard.server.app import create_app
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

SPEC = """\
feature_views:
  - name: {name}
    entities: [customer]
    source:
      path: ../data/customer_activity.parquet
      timestamp_field: event_timestamp
    ttl: 45d
    owner: {owner}
    description: Net spend, defined in YAML.
    tags: {{team: ml}}
    quality:
      spend_30d: not_null
    features:
      - name: spend_30d
        dtype: float32
        description: Net spend, 30 days.
feature_services:
  - name: {name}_svc
    feature_views: [{name}]
    owner: {owner}
"""
PROBE = [{"customer_id": 100_000}, {"customer_id": 100_001}]
REFS = ["customer_profile:monthly_charge", "customer_activity:spend_30d"]


def spec(name: str = "spend_yaml", owner: str = "alice") -> str:
    return SPEC.format(name=name, owner=owner)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = create_example_workspace(tmp_path_factory.mktemp("yaml") / "ws", customers=100)
    workspace = Workspace.open(root)
    workspace.features.apply()
    workspace.features.materialize()
    yield workspace
    workspace.close()


def state(ws: Workspace) -> tuple[str, list[str], str]:
    """Registry bytes, the repo's files and online values: what no failed call may change."""
    registry = hashlib.sha256((ws.state_dir / "feast" / "registry.db").read_bytes()).hexdigest()
    files = sorted(str(p.relative_to(ws.features.repo_dir)) for p in ws.features.repo_dir.rglob("*.py"))
    return registry, files, ws.features.online_features(PROBE, REFS).to_json()


def test_cli_applies_a_yaml_spec_after_planning_it(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "spend.yaml"
    path.write_text(spec())
    w = ["--workspace", str(ws.root), "--json"]
    before = state(ws)
    planned = CliRunner().invoke(features_cli, ["apply", str(path), "--plan", *w])
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["plan"].splitlines() == [
        "+ data source spend_yaml_source",
        "+ feature view spend_yaml",
        "+ feature service spend_yaml_svc",
    ]
    assert state(ws) == before
    applied = CliRunner().invoke(features_cli, ["apply", str(path), *w])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["applied"] is True
    assert (ws.features.repo_dir / "cells" / "spend_yaml.py").is_file()
    assert ws.features.feature_refs("spend_yaml_svc") == ["spend_yaml:spend_30d"]
    assert "spend_30d: not_null" in ws.features.describe("spend_yaml", with_stats=False).quality_checks
    assert ws.features.define_yaml(spec(), apply=False).plan == "no changes"


def test_views_record_their_feature_services_and_entities_in_the_catalog(ws: Workspace) -> None:
    ws.features.define_yaml(spec("spend_cat"))
    view = ws.catalog.get("feature_view", "spend_cat")
    assert [s["name"] for s in view.attributes["feature_services"]] == ["spend_cat_svc"]
    assert view.attributes["entity_details"][0]["join_key"] == "customer_id"
    profile = ws.catalog.get("feature_view", "customer_profile").attributes
    assert [s["name"] for s in profile["feature_services"]] == ["churn_v1"]
    assert ws.catalog.get("feature", "customer_profile:plan_tier").attributes["feature_services"] == [
        "churn_v1"
    ]
    (ws.features.repo_dir / "cells" / "spend_cat.py").unlink()
    ws.features.apply()


def test_materialize_reports_progress_per_view(ws: Workspace) -> None:
    seen: list[tuple[str, int, int]] = []
    result = ws.features.materialize(progress=lambda view, done, total: seen.append((view, done, total)))
    total = len(result.feature_views)
    assert seen == [(name, i, total) for i, name in enumerate(result.feature_views, start=1)]


def test_cli_materialize_draws_progress_on_stderr_and_keeps_json_stdout_clean(ws: Workspace) -> None:
    result = CliRunner().invoke(features_cli, ["materialize", "--workspace", str(ws.root), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # exactly one JSON document
    assert "customer_profile" in document["feature_views"]
    assert "materialized" in result.stderr


BAD_SPECS = [
    ("syntax", "feature_views:\n  - name: [x\n", InvalidInput, "line 3: invalid YAML"),
    ("dtype", spec("spend_bad").replace("float32", "decimal"), InvalidInput, "'spend_30d' dtype: unknown"),
    ("entity", spec("spend_bad").replace("[customer]", "[shop]"), InvalidInput, "entity 'shop'"),
    ("unsafe", spec("spend_bad").replace("name: spend_30d", "name: x;drop"), InvalidInput, "not allowed"),
    ("conflict", spec("customer_profile", "bob"), Conflict, "owner 'growth-analytics'.*owner 'bob'"),
]


@pytest.mark.parametrize(("case", "text", "error", "message"), BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_specs_are_refused_on_every_surface_and_change_nothing(
    ws: Workspace, tmp_path: Path, case: str, text: str, error: type[ShipyardError], message: str
) -> None:
    before = state(ws)
    with pytest.raises(error, match=message):
        ws.features.define_yaml(text)
    path = tmp_path / "bad.yml"
    path.write_text(text)
    cli = CliRunner().invoke(features_cli, ["apply", str(path), "--workspace", str(ws.root), "--json"])
    assert cli.exit_code != 0 and json.loads(cli.stdout)["error"]["code"] == error.code
    token = ws.tokens.create(f"yaml-{case}").secret
    with TestClient(create_app(ws, close_on_shutdown=False)) as c:
        r = c.post(
            "/api/v1/features/define", json={"yaml": text}, headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == error.http_status and r.json()["error"]["code"] == error.code
    assert state(ws) == before


@pytest.mark.parametrize("body", [{}, {"code": "x = 1", "yaml": "a: 1"}])
def test_rest_define_takes_exactly_one_of_code_or_yaml(ws: Workspace, body: dict[str, Any]) -> None:
    token = ws.tokens.create("yaml-one").secret
    with TestClient(create_app(ws, close_on_shutdown=False)) as c:
        r = c.post("/api/v1/features/define", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and "exactly one of 'code'" in r.json()["error"]["message"]


def test_rest_define_plans_a_yaml_spec(ws: Workspace) -> None:
    token = ws.tokens.create("yaml-plan").secret
    with TestClient(create_app(ws, close_on_shutdown=False)) as c:
        r = c.post(
            "/api/v1/features/define",
            json={"yaml": spec("spend_rest"), "apply": False},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200 and "+ feature view spend_rest" in r.json()["plan"]
