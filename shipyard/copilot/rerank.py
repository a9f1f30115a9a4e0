"""Optional cross-encoder reranking, used only when configured and loadable offline."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from shipyard.copilot.search import Ranked

_log = logging.getLogger(__name__)
_CACHE: dict[str, CrossEncoderReranker | None] = {}
_LOCK = threading.Lock()
DEPTH = 20


class CrossEncoderReranker:
    """Re-scores the top hits with a sentence-transformers ``CrossEncoder``."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def rerank(self, question: str, ranked: list[Ranked]) -> list[Ranked]:
        """The first ``DEPTH`` hits reordered by cross-encoder score; the rest keep their order."""
        head, tail = ranked[:DEPTH], ranked[DEPTH:]
        if not head:
            return ranked
        pairs = [
            (question, f"{r.payload.get('name')} {r.payload.get('title')} {r.payload.get('description')}")
            for r in head
        ]
        scores = self._model.predict(pairs, show_progress_bar=False)
        order = sorted(zip(head, scores, strict=True), key=lambda rs: -float(rs[1]))
        return [replace(r, score=round(float(s), 4)) for r, s in order] + tail


def get_reranker(name: str) -> CrossEncoderReranker | None:
    """The configured cross-encoder, or None when none is configured or it is not available offline."""
    if not name:
        return None
    with _LOCK:
        if name not in _CACHE:
            from sentence_transformers import CrossEncoder

            try:
                _CACHE[name] = CrossEncoderReranker(CrossEncoder(name, device="cpu", local_files_only=True))
            except (OSError, ValueError) as exc:
                # Configured but not on disk: retrieval keeps the fusion order rather than failing.
                _log.warning("reranker %r is not available offline (%s); using fused ranking", name, exc)
                _CACHE[name] = None
        return _CACHE[name]
