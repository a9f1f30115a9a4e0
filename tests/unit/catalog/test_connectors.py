"""dbt manifest and SQLAlchemy connectors: a realistic manifest fixture and a real SQLite warehouse file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from shipyard.catalog.sensitivity import looks_sensitive
from shipyard.errors import EngineUnavailable, InvalidInput
from shipyard.workspace import Workspace

MANIFEST = Path(__file__).parent / "fixtures" / "dbt_manifest.json"


def test_dbt_manifest_imports_models_sources_columns_and_lineage(workspace: Workspace) -> None:
    result = workspace.catalog.import_dbt(MANIFEST)
    assert (result.created, result.errors) == (5, [])  # 3 models + 2 sources; the test node is skipped
    customers = workspace.catalog.get("table", "dbt_prod.customers")
    assert customers.owner == "analytics-eng" and "finance" in customers.tags
    assert customers.attributes["materialized"] == "table"
    assert [c["name"] for c in customers.columns] == ["customer_id", "first_order", "customer_lifetime_value"]
    up = workspace.catalog.lineage("table", "dbt_prod.customers", direction="up", depth=2)
    assert {(e.src_name, e.dst_name) for e in up} == {
        ("dbt_prod.customers", "dbt_staging.stg_customers"),
        ("dbt_prod.customers", "dbt_staging.stg_orders"),
        ("dbt_staging.stg_customers", "shop.customers"),
        ("dbt_staging.stg_orders", "shop.orders"),
    }
    assert workspace.catalog.get("column", "dbt_staging.stg_customers.email").attributes["sensitive"] is True
    assert workspace.catalog.get("column", "shop.customers.phone_number").attributes["sensitive"] is True
    assert (
        workspace.catalog.get("column", "dbt_staging.stg_customers.customer_id").attributes["sensitive"]
        is False
    )
    assert workspace.catalog.import_dbt(MANIFEST).updated == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"metadata": {}}', "'nodes' is missing"),
        ('{"nodes": []}', "'nodes' is missing or not an object"),
        ('{"nodes": {"model.x.y": 3}}', "node 'model.x.y' is not an object"),
        ('{"nodes": {"model.x.y": {"resource_type": "model"}}}', "node 'model.x.y' has no name"),
        ('{"nodes": {}, "sources": 7}', "'sources' is missing or not an object"),
    ],
    ids=["invalid-json", "list", "no-nodes", "nodes-list", "node-not-object", "node-no-name", "sources-bad"],
)
def test_malformed_manifests_are_refused_and_nothing_written(
    workspace: Workspace, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        workspace.catalog.import_dbt(path)
    assert workspace.catalog.list() == []


def test_manifest_with_one_bad_column_writes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    manifest = json.loads(MANIFEST.read_text())
    node = manifest["nodes"]["model.jaffle_shop.customers"]
    node["columns"]["first_order"]["description"] = "x" * 70_000
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match="limit is 65536"):
        workspace.catalog.import_dbt(path)
    assert workspace.catalog.list() == []


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT NOT NULL, plan TEXT, signup DATE);
            CREATE TABLE transactions (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers,
                                       amount REAL, refund_flag BOOLEAN);
            CREATE VIEW refunds AS SELECT * FROM transactions WHERE refund_flag;
            INSERT INTO customers VALUES (1, 'ann@example.com', 'basic', '2024-01-02');
            """
        )
    return path


def test_sqlite_database_tables_views_and_columns(workspace: Workspace, warehouse: Path) -> None:
    result = workspace.catalog.import_sql(f"sqlite:///{warehouse}")
    assert (result.created, result.columns) == (3, 12)
    customers = workspace.catalog.get("table", "customers")
    assert [(c["name"], c["type"]) for c in customers.columns][:2] == [
        ("customer_id", "INTEGER"),
        ("email", "TEXT"),
    ]
    assert customers.columns[1]["sensitive"] is True and customers.columns[2]["sensitive"] is False
    assert customers.source.endswith("warehouse.db#customers")
    assert "view" in workspace.catalog.get("table", "refunds").tags
    assert workspace.catalog.import_sql(f"sqlite:///{warehouse}").updated == 3


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("sqlite:////nonexistent/dir/warehouse.db", EngineUnavailable, "does not exist"),
        ("not a url", InvalidInput, "not a usable SQLAlchemy URL"),
        ("nosuchdialect://u:secret@h/db", InvalidInput, "not a usable SQLAlchemy URL"),
    ],
    ids=["missing-file", "garbage", "unknown-dialect"],
)
def test_unreachable_or_bad_databases_are_clear_errors(
    workspace: Workspace, url: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as err:
        workspace.catalog.import_sql(url)
    assert "secret" not in str(err.value)
    assert workspace.catalog.list() == []


def test_a_file_that_is_not_a_database_is_engine_unavailable(workspace: Workspace, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(EngineUnavailable, match="cannot read database"):
        workspace.catalog.import_sql(f"sqlite:///{junk}")


def test_empty_schema_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(InvalidInput, match="no tables or views"):
        workspace.catalog.import_sql(f"sqlite:///{empty}")


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("email", True),
        ("customerEmail", True),
        ("phone_number", True),
        ("date_of_birth", True),
        ("emails_sent", False),
        ("customer_id", False),
        ("plan", False),
        ("shipping_address", True),
    ],
)
def test_sensitive_name_heuristic(name: str, sensitive: bool) -> None:
    assert looks_sensitive(name) is sensitive
