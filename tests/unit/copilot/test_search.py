"""The in-process hybrid index: project masks, rank fusion, removal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shipyard.copilot import lexical, search
from shipyard.copilot.search import HybridIndex


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def index() -> HybridIndex:
    idx = HybridIndex()
    idx.put("a", {"project": "p1", "name": "a"}, unit(1, 0, 0), lexical.document_vector("refund flag table"))
    idx.put("b", {"project": "p1", "name": "b"}, unit(0, 1, 0), lexical.document_vector("customer value"))
    idx.put("c", {"project": "p2", "name": "c"}, unit(1, 0, 0), lexical.document_vector("refund flag secret"))
    return idx


def test_search_only_sees_the_callers_projects() -> None:
    idx = index()
    hits = idx.search(unit(1, 0, 0), lexical.query_terms("refund"), ["p1"], 10)
    assert [h.point_id for h in hits] == ["a", "b"]
    assert hits[0].lexical_rank == 1 and hits[1].lexical_rank is None
    assert hits[0].score == pytest.approx(1.0 + search.LAMBDA, abs=1e-4)  # cosine 1 + the full lexical boost
    assert idx.search(unit(1, 0, 0), [], ["nope"], 10) == []
    assert [h.point_id for h in idx.search(unit(1, 0, 0), [], ["p2"], 10)] == ["c"]


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_both_fusions_rank_the_lexical_match_first(monkeypatch: pytest.MonkeyPatch, fusion: str) -> None:
    monkeypatch.setattr(search, "FUSION", fusion)
    hits = index().search(unit(1, 1, 0), lexical.query_terms("refund"), ["p1"], 10)
    assert [h.point_id for h in hits] == ["a", "b"]


def test_lexical_rank_breaks_a_dense_tie_and_removal_applies() -> None:
    idx = index()
    hits = idx.search(unit(1, 1, 0), lexical.query_terms("customer value"), ["p1"], 10)
    assert hits[0].point_id == "b"
    idx.remove("b")
    assert [h.point_id for h in idx.search(unit(1, 1, 0), [], ["p1"], 10)] == ["a"]
    assert len(idx) == 2 and set(idx.hashes()) == {"a", "c"}


def _hit(kind: str, name: str, score: float, table: str = "") -> Any:
    from shipyard.copilot.search import Ranked

    payload = {"kind": kind, "name": name, "project": "p", "table": table}
    return Ranked(f"{kind}:{name}", payload, score, 1, None)


@pytest.mark.parametrize(
    ("hits", "order"),
    [
        # two columns of t match: the table goes just ahead of the best of them
        (
            [
                ("column", "t.a", 0.9, "t"),
                ("column", "t.b", 0.8, "t"),
                ("model", "m", 0.7, ""),
                ("table", "t", 0.5, ""),
            ],
            ["t", "t.a", "t.b", "m"],
        ),
        # one matching column: nothing moves
        ([("column", "t.a", 0.9, "t"), ("model", "m", 0.7, ""), ("table", "t", 0.5, "")], ["t.a", "m", "t"]),
        # columns of another table do not lift this one
        (
            [("column", "u.a", 0.9, "u"), ("column", "u.b", 0.8, "u"), ("table", "t", 0.5, "")],
            ["u.a", "u.b", "t"],
        ),
        # a table already ahead keeps its own score
        (
            [("table", "t", 0.95, ""), ("column", "t.a", 0.9, "t"), ("column", "t.b", 0.8, "t")],
            ["t", "t.a", "t.b"],
        ),
    ],
)
def test_containment_rule(hits: list[tuple[str, str, float, str]], order: list[str]) -> None:
    from shipyard.copilot.rerank import containment

    ranked = containment([_hit(*h) for h in hits])
    assert [r.payload["name"] for r in ranked] == order
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_feedback_moves_the_query_toward_the_first_hit_of_the_callers_projects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    idx = HybridIndex()
    empty = lexical.document_vector("")
    idx.put("first", {"project": "p1"}, unit(1, 0.5, 0), empty)
    idx.put("near_first", {"project": "p1"}, unit(0.6, 1, 0), empty)
    idx.put("off_topic", {"project": "p1"}, unit(0.65, 0, 1), empty)
    # Another project's point equal to the query: were it fed back, the query would not move at all.
    idx.put("other", {"project": "p2"}, unit(1, 0, 0), empty)

    ranked = [h.point_id for h in idx.search(unit(1, 0, 0), [], ["p1"], 10)]
    assert ranked == ["first", "near_first", "off_topic"]
    monkeypatch.setattr(search, "FEEDBACK", 0.0)
    assert [h.point_id for h in idx.search(unit(1, 0, 0), [], ["p1"], 10)] == [
        "first",
        "off_topic",
        "near_first",
    ]
