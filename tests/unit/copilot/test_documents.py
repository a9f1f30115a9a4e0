"""The asset -> document adapter: text, payload, hashes and masked values."""

from __future__ import annotations

from shipyard.catalog.records import AssetRecord
from shipyard.copilot.documents import point_id, to_document


def table(**kw: object) -> AssetRecord:
    base: dict[str, object] = dict(
        kind="table",
        name="sales.tx",
        project="p",
        title="Transactions",
        description="Card payments.",
        owner="payments",
        columns=[{"name": "email", "type": "str", "description": "e-mail", "sensitive": True}],
        attributes={"stats": {"email": {"samples": ["alice@example.com"]}}},
    )
    base.update(kw)
    return AssetRecord(**base)  # type: ignore[arg-type]


def test_sensitive_values_stay_out_of_indexed_text_but_in_payload() -> None:
    doc = to_document(table())
    assert "alice@example.com" not in doc.dense_text + doc.lexical_text
    assert doc.payload["columns"][0]["samples"] == ["alice@example.com"]
    assert doc.payload["columns"][0]["sensitive"] is True
    assert "email" in doc.lexical_text and "sales" in doc.lexical_text


def test_hash_changes_with_content_only() -> None:
    assert to_document(table()).content_hash == to_document(table()).content_hash
    assert to_document(table()).content_hash != to_document(table(description="x")).content_hash
    assert (
        to_document(table()).point_id
        == point_id("p", "table", "sales.tx")
        != point_id("q", "table", "sales.tx")
    )


def test_column_asset_mentions_its_table() -> None:
    col = AssetRecord(
        kind="column",
        name="sales.tx.email",
        project="p",
        title="email",
        attributes={"table": "sales.tx", "sensitive": True},
    )
    doc = to_document(col)
    assert "of table sales tx" in doc.dense_text and doc.payload["sensitive"] is True
