"""Hybrid retrieval in process: dense cosine and BM25 over an in-memory mirror of the Qdrant points.

Qdrant's local mode scores in Python (about 20 ms dense and 90 ms sparse per query at 10k points, more
with a payload filter), so queries run on numpy arrays rebuilt from the stored vectors whenever the
index changes; Qdrant stays the store of record. Every query is restricted to the caller's projects
before ranking. Fusion is convex: cosine + 0.1 x BM25 / (the query's best BM25), a bounded lexical boost
that lifts exact names and ids without letting word overlap outvote meaning. Reciprocal rank fusion
(``FUSION = "rrf"``) was measured too: on paraphrased questions it cut hit@5 from 0.93 to 0.73, because
a weak lexical ranking gets the same vote as the dense one (benchmarks/bench_copilot.py).

Pseudo-relevance feedback (Rocchio, one document): the query vector moves toward the first hit's vector
(q + 0.3 x d1, renormalised) and the dense half is scored again. Paraphrased questions share few words with
any asset, and the best hit's own text supplies the catalog's vocabulary for them. Measured with every
embedding backend: hit@5 0.927 -> 0.964 on both the dev and held-out halves, hit@1 0.69 -> 0.73;
the gain holds for weights 0.2-0.5 and fades past 0.7, and feeding back three or five hits cost hit@5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

RRF_K = 60
CANDIDATES = 50
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
FUSION = "convex"
# Convex fusion: cosine + LAMBDA * BM25 / (best BM25 of this query), so lexical evidence is a bounded boost.
LAMBDA = 0.1
# Weight of the first hit's vector added to the query for the second, feedback pass (0: no feedback).
FEEDBACK = 0.3


@dataclass(frozen=True)
class Ranked:
    """One retrieved point with its fused score (1.0 = first in both rankings) and component ranks."""

    point_id: str
    payload: dict[str, Any]
    score: float
    dense_rank: int | None
    lexical_rank: int | None
    cosine: float = 0.0


class HybridIndex:
    """Dense vectors, BM25 postings and payloads of every point, queried with a project mask."""

    def __init__(self) -> None:
        self._points: dict[str, tuple[dict[str, Any], Any, dict[int, float]]] = {}
        self._dirty = True
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._points)

    def hashes(self) -> dict[str, str]:
        """Content hash per point id (what the indexer compares to skip unchanged assets)."""
        return {pid: str(p[0].get("hash", "")) for pid, p in self._points.items()}

    def put(self, point_id: str, payload: dict[str, Any], dense: Any, lexical: dict[int, float]) -> None:
        """Add or replace a point."""
        self._points[point_id] = (payload, dense, lexical)
        self._dirty = True

    def remove(self, point_id: str) -> None:
        """Drop a point if present."""
        if self._points.pop(point_id, None) is not None:
            self._dirty = True

    def _build(self) -> None:
        import numpy as np
        from scipy import sparse

        self._ids = list(self._points)
        payloads = [self._points[i][0] for i in self._ids]
        names = [str(p.get("project", "")) for p in payloads]
        self._codes = {name: i for i, name in enumerate(sorted(set(names)))}
        self._projects = np.array([self._codes[n] for n in names], dtype=np.int32)
        dim = next((len(p[1]) for p in self._points.values()), 1)
        self._dense = (
            np.vstack([np.asarray(self._points[i][1], dtype=np.float32) for i in self._ids])
            if self._ids
            else np.zeros((0, dim), dtype=np.float32)
        )
        vocab: dict[int, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for r, pid in enumerate(self._ids):
            for term, value in self._points[pid][2].items():
                rows.append(r)
                cols.append(vocab.setdefault(term, len(vocab)))
                vals.append(value)
        self._vocab = vocab
        self._row_of = {pid: r for r, pid in enumerate(self._ids)}
        self._lexical = sparse.csc_matrix(
            (vals, (rows, cols)), shape=(len(self._ids), max(len(vocab), 1)), dtype=np.float32
        )
        df = np.diff(self._lexical.indptr)
        n = len(self._ids)
        # Qdrant's IDF modifier: ln(1 + (N - df + 0.5) / (df + 0.5)).
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._dirty = False

    def _allowed(self, projects: list[str]) -> np.ndarray:
        import numpy as np

        codes = [self._codes[p] for p in projects if p in self._codes]
        return np.flatnonzero(np.isin(self._projects, np.array(codes, dtype=np.int32)))

    def search(
        self, dense_query: np.ndarray, lexical_terms: list[int], projects: list[str], limit: int
    ) -> list[Ranked]:
        """The best ``limit`` points of ``projects`` by fused dense + BM25 rank."""
        import numpy as np

        if self._dirty:
            self._build()
        if not self._ids or not projects:
            return []
        allowed = self._allowed(projects)
        if allowed.size == 0:
            return []
        query = dense_query.astype(np.float32)
        cosine = self._dense @ query
        dense_order = allowed[_top(cosine[allowed], CANDIDATES)]
        cols = [self._vocab[t] for t in lexical_terms if t in self._vocab]
        lexical_order: Any = np.array([], dtype=np.int64)
        every_bm25: Any = None
        if cols:
            # One sparse product scores every point; the fusion below reads it back by row.
            every_bm25 = np.asarray(self._lexical[:, cols] @ self._idf[cols]).ravel()
            bm25 = every_bm25[allowed]
            positive = np.flatnonzero(bm25 > 0)
            lexical_order = allowed[positive[_top(bm25[positive], CANDIDATES)]]
        if FUSION == "convex":
            ranked = self._convex(cosine, dense_order, lexical_order, every_bm25, limit)
            if not FEEDBACK or not ranked:
                return ranked
            moved = query + FEEDBACK * self._dense[self._row_of[ranked[0].point_id]]
            cosine = self._dense @ (moved / max(float(np.linalg.norm(moved)), 1e-12))
            dense_order = allowed[_top(cosine[allowed], CANDIDATES)]
            return self._convex(cosine, dense_order, lexical_order, every_bm25, limit)
        fused: dict[int, list[Any]] = {}
        for rank, row in enumerate(dense_order.tolist(), start=1):
            fused.setdefault(row, [0.0, None, None])
            fused[row][0] += DENSE_WEIGHT / (RRF_K + rank)
            fused[row][1] = rank
        for rank, row in enumerate(lexical_order.tolist(), start=1):
            fused.setdefault(row, [0.0, None, None])
            fused[row][0] += LEXICAL_WEIGHT / (RRF_K + rank)
            fused[row][2] = rank
        best = (DENSE_WEIGHT + LEXICAL_WEIGHT) / (RRF_K + 1)
        ordered = sorted(fused.items(), key=lambda kv: (-kv[1][0], kv[1][1] or math.inf))[:limit]
        return [
            Ranked(
                self._ids[row], self._points[self._ids[row]][0], round(s / best, 4), d, lx, float(cosine[row])
            )
            for row, (s, d, lx) in ordered
        ]

    def _convex(
        self, cosine: Any, dense_order: Any, lexical_order: Any, every_bm25: Any, limit: int
    ) -> list[Ranked]:
        import numpy as np

        rows = list(dict.fromkeys(dense_order.tolist() + lexical_order.tolist()))
        bm25 = np.zeros(len(rows), dtype=np.float32) if every_bm25 is None else every_bm25[rows]
        top = float(bm25.max()) if bm25.size else 0.0
        scores = cosine[rows] + (LAMBDA * bm25 / top if top > 0 else 0.0)
        d_rank = {r: i for i, r in enumerate(dense_order.tolist(), start=1)}
        l_rank = {r: i for i, r in enumerate(lexical_order.tolist(), start=1)}
        order = np.argsort(-scores, kind="stable")[:limit]
        return [
            Ranked(
                self._ids[rows[i]],
                self._points[self._ids[rows[i]]][0],
                round(float(scores[i]), 4),
                d_rank.get(rows[i]),
                l_rank.get(rows[i]),
                float(cosine[rows[i]]),
            )
            for i in order.tolist()
        ]

    def dense_only(self, dense_query: np.ndarray, projects: list[str], limit: int) -> list[Ranked]:
        """Plain cosine top-k within ``projects`` (the baseline the benchmark compares against)."""
        import numpy as np

        if self._dirty:
            self._build()
        allowed = self._allowed(projects)
        if allowed.size == 0:
            return []
        scores = self._dense[allowed] @ dense_query.astype(np.float32)
        order = _top(scores, limit)
        return [
            Ranked(self._ids[allowed[i]], self._points[self._ids[allowed[i]]][0], float(scores[i]), r, None)
            for r, i in enumerate(order.tolist(), start=1)
        ]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first."""
    import numpy as np

    if scores.size <= k:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
