"""Tokens, stemming and BM25 weights of the lexical signal."""

from __future__ import annotations

import pytest

from shipyard.copilot import lexical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sales.transactions_clean", ["sale", "transaction", "clean"]),
        ("refundFlag", ["refund", "flag"]),
        ("Where are the refunds?", ["refund"]),
        ("ltv_90d", ["ltv", "90d"]),
        ("", []),
        ("Rückerstattungen für Kunden", ["rückerstattungen", "für", "kunden"]),
    ],
)
def test_tokens_split_names_and_stem(text: str, expected: list[str]) -> None:
    assert lexical.tokens(text) == expected


def test_document_vector_saturates_and_query_terms_match() -> None:
    doc = lexical.document_vector("refund refund refund flag")
    q = lexical.query_terms("refunds and flags")
    assert set(q) == set(doc)
    refund, flag = doc[lexical.term_id("refund")], doc[lexical.term_id("flag")]
    assert flag < refund < 3 * flag  # tf 3 counts more than tf 1, but far less than 3x
    assert lexical.term_id("refund") == lexical.term_id("refund") < 2**31
