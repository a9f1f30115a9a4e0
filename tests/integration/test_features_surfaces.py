"""Discover, define, gate and serve features through the service, REST and CLI on real Feast (SQLite online).

One small churn workspace per module. Each bad-input case asserts a clear error and that the registry file,
the repo's definition files and the online values are exactly as before.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shipyard.cli.features_cmd import app as features_cli
from shipyard.errors import Conflict, InvalidInput, NotFound, ShipyardError
from shipyard.examples.churn import create_example_workspace
from shipyard.features.quality import QualityGateFailed
from shipyard.features.validation import TooManyEntities
from shipyard.server.app import create_app
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

CELL = """
from datetime import timedelta
from feast import FeatureView, Field, FileSource
from feast.types import Float32
from definitions import DATA_DIR, customer

spend_source = FileSource(
    name="spend_source", path=str(DATA_DIR / "customer_activity.parquet"), timestamp_field="event_timestamp"
)
{var} = FeatureView(
    name="{name}",
    entities=[customer],
    ttl=timedelta(days=45),
    schema=[Field(name="spend_30d", dtype=Float32, description="Net spend, 30 days.")],
    source=spend_source,
    owner="{owner}",
    tags={tags},
)
"""
PROBE = [{"customer_id": 100_000}, {"customer_id": 100_001}, {"customer_id": 100_002}]
REFS = ["customer_profile:monthly_charge", "customer_activity:spend_30d", "customer_activity:refunds_30d"]


def cell(name: str = "spend_alt", owner: str = "alice", tags: dict[str, str] | None = None) -> str:
    return CELL.format(var="view", name=name, owner=owner, tags=repr(tags or {"team": "ml"}))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = create_example_workspace(tmp_path_factory.mktemp("surfaces") / "ws", customers=150)
    workspace = Workspace.open(root)
    workspace.features.apply()
    workspace.features.materialize()
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = ws.tokens.create("features-test").secret
    with TestClient(create_app(ws, close_on_shutdown=False)) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def state(ws: Workspace) -> tuple[str, list[str], str]:
    """Registry bytes, the repo's files and online values: what no failed call may change."""
    registry = hashlib.sha256((ws.state_dir / "feast" / "registry.db").read_bytes()).hexdigest()
    files = sorted(str(p.relative_to(ws.features.repo_dir)) for p in ws.features.repo_dir.rglob("*.py"))
    online = ws.features.online_features(PROBE, REFS).to_json()
    return registry, files, online


# -- discover --------------------------------------------------------------------------------------------------
def test_apply_registers_views_and_features_in_the_catalog(ws: Workspace) -> None:
    views = {a.name for a in ws.catalog.list(kinds=["feature_view"])}
    assert views == {"customer_activity", "customer_profile"}
    feature = ws.catalog.get("feature", "customer_activity:refund_rate_60d")
    assert feature.owner == "growth-analytics"
    assert feature.attributes["lineage"] == [
        {"kind": "feature_view", "name": "customer_activity", "relation": "part_of"}
    ]


def test_search_finds_features_by_words_in_their_description(ws: Workspace) -> None:
    hits = ws.features.search("refund")
    assert hits[0].name == "customer_activity:refund_rate_60d"
    assert {h.name for h in hits} >= {"customer_activity:refunds_30d"}


def test_describe_reports_schema_freshness_stats_checks_and_lineage(ws: Workspace) -> None:
    ws.catalog.upsert(
        "model",
        "churn",
        attributes={"lineage": [{"kind": "feature_view", "name": "customer_profile", "relation": "uses"}]},
    )
    d = ws.features.describe("customer_profile:plan_tier")
    assert (d.name, d.owner, d.ttl_s, d.online, d.offline) == (
        "customer_profile",
        "growth-analytics",
        45 * 86400,
        True,
        True,
    )
    assert d.last_materialized is not None
    tier = next(f for f in d.features if f.name == "plan_tier")
    assert tier.dtype == "Int64" and tier.stats is not None and tier.stats.nulls == 0
    assert 0 <= tier.stats.min <= tier.stats.max <= 2
    assert "plan_tier: allowed=0|1|2" in d.quality_checks
    assert d.feature_services == ["churn_v1"]
    assert d.used_by == [{"kind": "model", "name": "churn", "relation": "uses"}]
    ws.catalog.remove("model", "churn")


# -- define ----------------------------------------------------------------------------------------------------
def test_define_plans_then_applies_and_keeps_the_cell_in_the_repo(ws: Workspace) -> None:
    before = state(ws)
    planned = ws.features.define(cell(), apply=False)
    assert planned.plan.splitlines() == ["+ data source spend_source", "+ feature view spend_alt"]
    assert state(ws) == before
    applied = ws.features.define(cell())
    assert applied.applied and Path(applied.path).is_file()
    assert "spend_alt" in {v.name for v in ws.features.list_feature_views()}
    assert ws.catalog.get("feature", "spend_alt:spend_30d").owner == "alice"
    assert ws.features.define(cell(), apply=False).plan == "no changes"
    Path(applied.path).unlink()
    ws.features.apply()
    assert "spend_alt" not in {v.name for v in ws.features.list_feature_views()}
    assert ws.catalog.search("spend_alt") == [] or all(
        h.asset.name != "spend_alt" for h in ws.catalog.search("spend_alt")
    )


def test_quality_gate_stops_materialization_and_writes_nothing(ws: Workspace) -> None:
    ws.features.define(cell(name="spend_checked", tags={"quality.spend_30d": "range=0..100"}))
    before = state(ws)
    with pytest.raises(QualityGateFailed) as err:
        ws.features.materialize()
    failure = err.value.detail["failures"][0]
    assert (failure["feature"], failure["check"]) == ("spend_30d", "range=0.0..100.0")
    assert failure["offending_rows"] > 0
    assert "spend_checked:spend_30d failed range" in err.value.message
    assert state(ws) == before
    assert ws.features.online_features(PROBE, ["spend_checked:spend_30d"])["spend_30d"].isna().all()
    (ws.features.repo_dir / "cells" / "spend_checked.py").unlink()
    ws.features.apply()


# -- bad input: clear error, nothing changed ---------------------------------------------------------------------
BAD_CALLS: list[tuple[str, Any, type[ShipyardError], str]] = [
    (
        "unknown ref",
        lambda f: f.online_features(PROBE, ["customer_profile:nope"]),
        NotFound,
        "has no feature 'nope'",
    ),
    ("unknown view", lambda f: f.online_features(PROBE, ["nope:x"]), NotFound, "no feature view 'nope'"),
    (
        "sql in ref",
        lambda f: f.online_features(PROBE, ["customer_profile:x'; DROP TABLE t;--"]),
        NotFound,
        "has no feature",
    ),
    ("key type", lambda f: f.online_features([{"customer_id": "abc"}], REFS), InvalidInput, "not an integer"),
    ("key missing", lambda f: f.online_features([{"id": 1}], REFS), InvalidInput, "missing 'customer_id'"),
    (
        "100k entities",
        lambda f: f.online_features([{"customer_id": 1}] * 100_000, REFS),
        TooManyEntities,
        "limit is 10000",
    ),
    (
        "syntax error",
        lambda f: f.define("from feast import Entity\n\ne = Entity(name='x'\n"),
        InvalidInput,
        "cell, line 3: syntax error",
    ),
    ("sql view name", lambda f: f.define(cell(name="spend; DROP TABLE x")), InvalidInput, "not allowed"),
    ("reserved view name", lambda f: f.define(cell(name="select")), InvalidInput, "reserved word"),
    (
        "bad quality tag",
        lambda f: f.define(cell(tags={"quality.spend_30d": "between"})),
        InvalidInput,
        "unknown rule",
    ),
    (
        "conflict",
        lambda f: f.define(cell(name="customer_profile")),
        Conflict,
        "owner 'growth-analytics'.*owner 'alice'",
    ),
    ("describe unknown", lambda f: f.describe("nope"), NotFound, "no feature view 'nope'"),
]


@pytest.mark.parametrize(("case", "call", "error", "message"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_refused_and_changes_nothing(
    ws: Workspace, case: str, call: Any, error: type[ShipyardError], message: str
) -> None:
    before = state(ws)
    with pytest.raises(error, match=message):
        call(ws.features)
    assert state(ws) == before


@pytest.mark.parametrize(
    "yaml_text", ["project: [unclosed\n", "project: churn\nprovider: nowhere\nonline_store: 7\n"]
)
def test_malformed_feature_store_yaml_is_bad_input_and_changes_nothing(
    ws: Workspace, tmp_path: Path, yaml_text: str
) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(ws.root, copy)
    broken = Workspace.open(copy)
    (broken.features.repo_dir / "feature_store.yaml").write_text(yaml_text)
    registry = (copy / ".shipyard" / "feast" / "registry.db").read_bytes()
    files = sorted(broken.features.repo_dir.rglob("*.py"))
    for call in (lambda: broken.features.apply(), lambda: broken.features.define(cell())):
        with pytest.raises(InvalidInput, match="feature_store.yaml: invalid Feast configuration"):
            call()
    assert (copy / ".shipyard" / "feast" / "registry.db").read_bytes() == registry
    assert sorted(broken.features.repo_dir.rglob("*.py")) == files
    broken.close()


# -- REST ------------------------------------------------------------------------------------------------------
def test_rest_search_describe_and_online(client: tuple[TestClient, dict[str, str]]) -> None:
    c, auth = client
    hits = c.get("/api/v1/features/search", params={"q": "refund"}, headers=auth).json()
    assert hits[0]["name"] == "customer_activity:refund_rate_60d"
    d = c.get("/api/v1/features/views/customer_activity", headers=auth).json()
    assert d["features"][0]["stats"]["count"] > 0
    r = c.post("/api/v1/features/online", json={"entities": PROBE, "features": REFS}, headers=auth)
    assert r.status_code == 200 and len(r.json()["rows"]) == 3
    plan = c.post("/api/v1/features/define", json={"code": cell(), "apply": False}, headers=auth).json()
    assert "+ feature view spend_alt" in plan["plan"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"entities": [{"customer_id": 1}] * 10_001, "features": REFS}, 413, "payload_too_large"),
        ({"entities": [], "features": REFS}, 422, None),
        ({"entities": [{"customer_id": "x"}], "features": REFS}, 422, "invalid_input"),
        ({"entities": PROBE, "features": ["nope:x"]}, 404, "not_found"),
        ({"entities": PROBE}, 422, "invalid_input"),
    ],
)
def test_rest_online_bad_input(
    client: tuple[TestClient, dict[str, str]],
    ws: Workspace,
    body: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    c, auth = client
    before = state(ws)
    r = c.post("/api/v1/features/online", json=body, headers=auth)
    assert r.status_code == status
    assert "error" in r.json()
    if code:
        assert r.json()["error"]["code"] == code
    assert state(ws) == before


def test_rest_define_syntax_error_names_the_line(client: tuple[TestClient, dict[str, str]]) -> None:
    c, auth = client
    r = c.post("/api/v1/features/define", json={"code": "x = (\n"}, headers=auth)
    assert r.status_code == 422 and "line 1" in r.json()["error"]["message"]


# -- CLI -------------------------------------------------------------------------------------------------------
def test_cli_list_search_show_get_and_frame(ws: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    w = ["--workspace", str(ws.root), "--json"]
    listed = runner.invoke(features_cli, ["list", *w])
    assert listed.exit_code == 0, listed.output
    assert {v["name"] for v in json.loads(listed.stdout)} >= {"customer_profile"}
    found = json.loads(runner.invoke(features_cli, ["search", "refund", *w]).stdout)
    assert found[0]["name"] == "customer_activity:refund_rate_60d"
    shown = json.loads(runner.invoke(features_cli, ["show", "customer_profile", *w]).stdout)
    assert shown["owner"] == "growth-analytics"
    got = runner.invoke(features_cli, ["get", "-e", "customer_id=100000", "-f", REFS[0], *w])
    assert json.loads(got.stdout)["rows"][0]["customer_id"] == 100_000
    labels = tmp_path / "labels.parquet"
    import pandas as pd

    pd.read_parquet(ws.root / "data" / "labels.parquet").head(20).to_parquet(labels)
    out = tmp_path / "frame.parquet"
    framed = runner.invoke(
        features_cli, ["frame", "--entities", str(labels), "-f", REFS[1], "--out", str(out), *w]
    )
    assert framed.exit_code == 0, framed.output
    assert json.loads(framed.stdout)["rows"] == 20 and "spend_30d" in pd.read_parquet(out).columns
    bad = runner.invoke(features_cli, ["get", "-e", "customer_id=abc", "-f", REFS[0], *w])
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"]["code"] == "invalid_input"


def test_cli_apply_a_definition_file_plans_without_changing_anything(ws: Workspace, tmp_path: Path) -> None:
    definition = tmp_path / "spend.py"
    definition.write_text(cell())
    before = state(ws)
    result = CliRunner().invoke(
        features_cli, ["apply", str(definition), "--plan", "--workspace", str(ws.root), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "+ feature view spend_alt" in json.loads(result.stdout)["plan"]
    assert state(ws) == before
    bad = CliRunner().invoke(features_cli, ["apply", str(tmp_path / "none.py"), "--workspace", str(ws.root)])
    assert bad.exit_code == 2
