"""CatalogService over the real metadata store (SQLite in tmp_path)."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.workspace import Workspace


def test_upsert_get_list_and_replace(workspace: Workspace) -> None:
    cat = workspace.catalog
    cat.upsert("table", "sales.tx", description="cleaned transactions", owner="payments", tags=["finance"])
    cat.upsert("feature", "stats:ltv_90d", description="lifetime value, 90 days", owner="growth")
    again = cat.upsert("table", "sales.tx", description="cleaned transaction history", owner="payments")
    assert again.description == "cleaned transaction history"
    assert cat.get("table", "sales.tx").owner == "payments"
    assert [a.name for a in cat.list()] == ["stats:ltv_90d", "sales.tx"]
    assert [a.name for a in cat.list(kinds=["table"])] == ["sales.tx"]


def test_search_ranks_name_hits_first_and_filters_kinds(workspace: Workspace) -> None:
    cat = workspace.catalog
    cat.upsert("feature", "stats:ltv_90d", description="lifetime value", tags=["ltv"])
    cat.upsert("feature", "stats:orders", description="orders, used to compute ltv")
    cat.upsert("table", "ltv_table", description="raw")
    hits = cat.search("ltv", kinds=["feature"])
    assert [h.asset.name for h in hits] == ["stats:ltv_90d", "stats:orders"]
    assert hits[0].score > hits[1].score
    assert cat.search("nothing-like-this") == []


@pytest.mark.parametrize("text", ["'; DROP TABLE assets; --", "%", "_", '" OR 1=1 --'])
def test_search_text_is_never_sql(workspace: Workspace, text: str) -> None:
    workspace.catalog.upsert("table", "t", description="x")
    workspace.catalog.search(text)
    assert [a.name for a in workspace.catalog.list()] == ["t"]


def test_missing_and_bad_assets_are_clear_errors(workspace: Workspace) -> None:
    with pytest.raises(NotFound, match="no table 'nope'"):
        workspace.catalog.get("table", "nope")
    with pytest.raises(InvalidInput, match="kind and name"):
        workspace.catalog.upsert("", "x")
    assert workspace.catalog.remove("table", "nope") is False
