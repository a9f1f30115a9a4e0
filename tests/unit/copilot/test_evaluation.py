"""Question files and retrieval metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.copilot.evaluation import evaluate, percentile, read_cases
from shipyard.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("no tab here\n", 1),
        ("ok\ttable:a\n\tkind:b\n", 2),
        ("q\tnot-a-ref\n", 1),
        ("q\t\n", 1),
    ],
)
def test_bad_lines_name_their_number(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "q.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"q.tsv:{line}"):
        read_cases(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "e.tsv").write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no questions"):
        read_cases(tmp_path / "e.tsv")
    with pytest.raises(InvalidInput, match="no such file"):
        read_cases(tmp_path / "missing.tsv")


def test_metrics(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("a\ttable:x\nb\ttable:y|table:z\nc\ttable:w\n", encoding="utf-8")
    answers = {"a": ["table:x"], "b": ["table:q", "table:z"], "c": ["table:q"]}
    report = evaluate(read_cases(path), lambda q: answers[q])
    assert (report.hit_at_1, report.hit_at_5, report.mrr) == (0.333, 0.667, 0.5)
    assert [m["line"] for m in report.misses] == [3]
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([], 95) == 0.0
