"""Retrieval evaluation: ``question<TAB>kind:name|kind:name`` files, hit@1, hit@5, MRR and latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.errors import InvalidInput


@dataclass(frozen=True)
class EvalCase:
    """One question and the assets (``kind:name``) that answer it."""

    line: int
    question: str
    gold: tuple[str, ...]


@dataclass
class EvalReport:
    """Aggregate retrieval quality and latency over a question set."""

    questions: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    p50_ms: float
    p95_ms: float
    misses: list[dict[str, object]] = field(default_factory=list)


def read_cases(path: Path) -> list[EvalCase]:
    """Parse a questions file; a malformed line is ``InvalidInput`` naming its number."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file; pass a TSV of question<TAB>kind:name|kind:name")
    cases = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        question, sep, golds = raw.partition("\t")
        gold = tuple(g.strip() for g in golds.split("|") if g.strip())
        if not sep or not question.strip() or not gold or any(":" not in g for g in gold):
            raise InvalidInput(
                f"{path}:{number}: expected question<TAB>kind:name[|kind:name...], got {raw[:80]!r}"
            )
        cases.append(EvalCase(number, question.strip(), gold))
    if not cases:
        raise InvalidInput(f"{path}: no questions found")
    return cases


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1], 2)


def evaluate(cases: list[EvalCase], rank: Callable[[str], list[str]]) -> EvalReport:
    """Score ``rank`` (question -> ranked ``kind:name`` list) on ``cases``."""
    hit1 = hit5 = rr = 0.0
    latencies = []
    misses: list[dict[str, object]] = []
    for case in cases:
        started = time.perf_counter()
        ranked = rank(case.question)
        latencies.append((time.perf_counter() - started) * 1000)
        position = next((i for i, key in enumerate(ranked, start=1) if key in case.gold), None)
        if position == 1:
            hit1 += 1
        if position is not None and position <= 5:
            hit5 += 1
        if position is not None:
            rr += 1 / position
        else:
            misses.append({"line": case.line, "question": case.question, "top": ranked[:3]})
    n = len(cases)
    return EvalReport(
        n,
        round(hit1 / n, 3),
        round(hit5 / n, 3),
        round(rr / n, 3),
        percentile(latencies, 50),
        percentile(latencies, 95),
        misses,
    )
