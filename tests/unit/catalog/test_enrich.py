"""Enrichment drafts descriptions from samples, never from sensitive columns; accept flips draft to accepted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.workspace import Workspace

SECRET = "ann.secret@example.com"
COLUMNS = [
    {"name": "customer_id", "type": "int64", "description": "", "sensitive": False},
    {"name": "email", "type": "string", "description": "", "sensitive": True},
    {"name": "segment", "type": "string", "description": "", "sensitive": True},  # flagged, innocuous name
    {"name": "channel", "type": "string", "description": "", "sensitive": False},
    {"name": "amount", "type": "float", "description": "", "sensitive": False},
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": range(1, 201),
            "email": [SECRET, "bob@example.com"] * 100,
            "segment": ["vip-hidden", "regular-hidden"] * 100,
            "channel": ["web", "app", "store", "web"] * 50,
            "amount": [10.0, 30.0] * 100,
            "phone": ["+33 6 12 34 56 78"] * 200,  # undeclared, named like personal data
        }
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv", "sqlite"])
def test_drafts_use_sampled_stats_but_never_sensitive_values(
    workspace: Workspace, tmp_path: Path, fmt: str
) -> None:
    frame = _frame()
    if fmt == "parquet":
        frame.to_parquet(workspace.root / "tx.parquet")
        source = "tx.parquet"  # workspace-relative
    elif fmt == "csv":
        frame.to_csv(tmp_path / "tx.csv", index=False)
        source = str(tmp_path / "tx.csv")
    else:
        with sqlite3.connect(tmp_path / "w.db") as db:
            frame.to_sql("tx", db, index=False)
        source = f"sqlite:///{tmp_path / 'w.db'}#tx"
    workspace.catalog.upsert("table", "sales.tx", columns=COLUMNS, source=source)
    workspace.catalog.upsert("table", "documented", description="written by a person")
    result = workspace.catalog.enrich()
    assert result.unsampled == {}
    drafted = {(d.kind, d.name): d.description for d in result.drafted}
    assert ("table", "documented") not in drafted
    table = drafted[("table", "sales.tx")]
    assert "channel: values web, app, store" in table or "channel: values web, store, app" in table
    assert "amount: ranges 10 to 30" in table and "email (sensitive)" in table
    everything = " ".join(drafted.values())
    for leaked in (SECRET, "bob@", "vip-hidden", "regular-hidden", "+33"):
        assert leaked not in everything
    assert "values are not sampled" in drafted[("column", "sales.tx.email")]
    assert "values are not sampled" in drafted[("column", "sales.tx.segment")]
    asset = workspace.catalog.get("table", "sales.tx")
    assert (asset.description, asset.description_status) == (table, "draft")
    if fmt == "parquet":
        assert "with 200 rows" in table


def test_unreadable_sources_are_reported_and_still_drafted_from_names(workspace: Workspace) -> None:
    workspace.catalog.upsert("table", "crm.contacts", columns=COLUMNS[:2], source="postgresql://crm/contacts")
    workspace.catalog.upsert("table", "gone", source="missing.parquet")
    workspace.catalog.upsert("model", "churn")
    result = workspace.catalog.enrich()
    assert set(result.unsampled) == {"crm.contacts", "gone"}
    assert "does not exist" in result.unsampled["gone"]
    assert workspace.catalog.get("model", "churn").description.startswith("Model churn")
    only_tables = workspace.catalog.enrich(["table"])
    assert only_tables.drafted == []  # already drafted


def test_accept_flips_a_draft_and_refuses_what_is_not_one(workspace: Workspace) -> None:
    workspace.catalog.upsert("table", "t", columns=COLUMNS[:1])
    workspace.catalog.enrich(["table"])
    accepted = workspace.catalog.accept("table", "t")
    assert accepted.description_status == "accepted" and accepted.description
    with pytest.raises(InvalidInput, match="no draft description to accept"):
        workspace.catalog.accept("table", "t")
    with pytest.raises(NotFound):
        workspace.catalog.accept("table", "nope")
    with pytest.raises(InvalidInput, match="unknown kind"):
        workspace.catalog.enrich(["spreadsheet"])
