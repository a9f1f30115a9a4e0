"""Lineage edges, incremental change listing and tombstones over the real metadata store."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.catalog.service import LineageEdge
from shipyard.errors import InvalidInput
from shipyard.store.db import MetadataStore
from shipyard.store.models import Asset
from shipyard.workspace import Workspace

COLUMNS = [
    {"name": "customer_id", "type": "int64", "description": "key", "sensitive": False},
    {"name": "email", "type": "string", "description": "contact address", "sensitive": True},
]


def _chain(cat: object) -> None:
    cat.upsert("table", "sales.tx", columns=COLUMNS, owner="payments")  # type: ignore[attr-defined]
    cat.upsert(  # type: ignore[attr-defined]
        "feature",
        "stats:spend",
        attributes={"lineage": [{"kind": "table", "name": "sales.tx", "relation": "derived_from"}]},
    )
    cat.upsert(  # type: ignore[attr-defined]
        "model_version",
        "churn@1",
        attributes={"lineage": [{"kind": "feature", "name": "stats:spend", "relation": "uses"}]},
    )
    cat.upsert(  # type: ignore[attr-defined]
        "deployment",
        "churn-prod",
        attributes={"lineage": [{"kind": "model_version", "name": "churn@1", "relation": "serves"}]},
    )


def test_table_columns_become_column_assets_with_part_of_edges(workspace: Workspace) -> None:
    cat = workspace.catalog
    table = cat.upsert("table", "sales.tx", columns=COLUMNS, owner="payments", tags=["finance"])
    assert table.columns[1]["sensitive"] is True and table.id is not None
    email = cat.get("column", "sales.tx.email")
    assert email.attributes["sensitive"] is True and "sensitive" in email.tags and email.owner == "payments"
    assert cat.lineage("column", "sales.tx.email", direction="up") == [
        LineageEdge("column", "sales.tx.email", "table", "sales.tx", "part_of")
    ]
    cat.upsert("table", "sales.tx", columns=COLUMNS[:1])
    assert [a.name for a in cat.list(kinds=["column"])] == ["sales.tx.customer_id"]
    assert cat.remove("table", "sales.tx") is True
    assert cat.list() == []


def test_lineage_walks_up_and_down_with_a_depth_limit(workspace: Workspace) -> None:
    cat = workspace.catalog
    _chain(cat)
    up = cat.lineage("deployment", "churn-prod", direction="up")
    assert [(e.src_name, e.relation, e.dst_name) for e in up] == [
        ("churn-prod", "serves", "churn@1"),
        ("churn@1", "uses", "stats:spend"),
        ("stats:spend", "derived_from", "sales.tx"),
    ]
    assert len(cat.lineage("deployment", "churn-prod", direction="up", depth=1)) == 1
    down = cat.lineage("table", "sales.tx", direction="down", depth=5)
    assert {e.src_name for e in down} >= {"stats:spend", "churn@1", "churn-prod", "sales.tx.email"}
    both = cat.lineage("model_version", "churn@1")
    assert {e.relation for e in both} == {"serves", "uses", "derived_from"}
    assert cat.lineage("feature", "stats:spend", project="other") == []


@pytest.mark.parametrize(("direction", "depth"), [("sideways", 3), ("up", 0), ("down", 11)])
def test_bad_lineage_queries_are_refused(workspace: Workspace, direction: str, depth: int) -> None:
    with pytest.raises(InvalidInput):
        workspace.catalog.lineage("table", "x", direction=direction, depth=depth)


def test_edges_owned_by_a_sync_source_survive_the_asset_rewriting_its_own(workspace: Workspace) -> None:
    cat = workspace.catalog
    cat.upsert(
        "feature",
        "v:f",
        attributes={"lineage": [{"kind": "feature_view", "name": "v", "relation": "part_of"}]},
    )
    cat.set_edges("feature", "v:f", [("table", "raw.t", "derived_from")], origin="feast")
    cat.upsert(
        "feature",
        "v:f",
        attributes={"lineage": [{"kind": "feature_view", "name": "v", "relation": "part_of"}]},
    )
    assert {e.relation for e in cat.lineage("feature", "v:f", direction="up")} == {"part_of", "derived_from"}
    with pytest.raises(InvalidInput, match="origin"):
        cat.set_edges("feature", "v:f", [], origin="")


def test_list_changed_and_tombstones_drive_incremental_indexing(workspace: Workspace) -> None:
    cat = workspace.catalog
    cat.upsert("table", "a", description="first")
    cat.upsert("table", "b", description="second", project="other")
    assert cat.projects() == ["other", "test"]
    assert {a.name for a in cat.list_changed(None)} == {"a", "b"}
    assert [a.name for a in cat.list_changed(None, projects=["other"])] == ["b"]
    time.sleep(0.01)
    mark = datetime.now(UTC)
    time.sleep(0.01)
    cat.upsert("table", "a", description="first")  # unchanged: no bump
    cat.upsert("table", "c", description="third")
    assert [a.name for a in cat.list_changed(mark)] == ["c"]
    cat.upsert("table", "a", description="changed")
    assert {a.name for a in cat.list_changed(mark)} == {"a", "c"}
    assert cat.removed_since(mark) == []
    cat.remove("table", "c")
    stones = cat.removed_since(mark)
    assert [(t.kind, t.name, t.project) for t in stones] == [("table", "c", "test")]
    assert stones[0].removed_at > mark
    assert cat.removed_since(datetime.now(UTC) + timedelta(seconds=1)) == []
    cat.upsert("table", "c")  # re-created: no longer a tombstone
    assert cat.removed_since(mark) == []


def test_enriched_descriptions_survive_a_source_without_one(workspace: Workspace) -> None:
    cat = workspace.catalog
    cat.upsert("feature_view", "v", description="drafted text", description_status="draft")
    again = cat.upsert("feature_view", "v", description="")
    assert (again.description, again.description_status) == ("drafted text", "draft")
    person = cat.upsert("feature_view", "v", description="written by a person")
    assert person.description_status == ""


def test_store_from_0001_upgrades_keeping_assets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    old = MetadataStore.connect(url, migrate=False)
    old.upgrade("0001_initial")
    with old.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO assets (project, kind, name, title, description, owner, source, tags, attributes,"
            " updated_at) VALUES ('p', 'table', 't', '', 'old row', '', '', '[]', '{}', '2024-01-01 00:00:00')"
        )
    old.dispose()
    new = MetadataStore.connect(url)
    with new.session() as s:
        row = s.scalars(sa.select(Asset)).one()
        assert (row.description, row.columns, row.freshness, row.description_status) == (
            "old row",
            [],
            None,
            "",
        )
    assert {"asset_edges", "asset_tombstones"} <= set(sa.inspect(new.engine).get_table_names())
    new.dispose()


@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        ("wiki", {}, "unknown kind 'wiki'"),
        ("table", {"description_status": "approved"}, "description_status"),
        ("table", {"columns": [{"name": "a"}, {"name": "a"}]}, "duplicate column 'a'"),
        ("model", {"columns": [{"name": "a"}]}, "not a model"),
    ],
    ids=["unknown-kind", "bad-status", "duplicate-column", "columns-on-model"],
)
def test_upsert_validates_like_register(
    workspace: Workspace, kind: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        workspace.catalog.upsert(kind, "x", **kwargs)  # type: ignore[arg-type]
    assert workspace.catalog.list() == []
