"""``CopilotService``: index the catalog, retrieve for a question, answer with citations (extractive or LLM).

One index per process per store location: Qdrant's local mode locks its folder, so every workspace
object in a process shares the indexer built for that folder.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shipyard.copilot import lexical
from shipyard.copilot.answer import Answer, Citation, compose, to_citations
from shipyard.copilot.documents import freshness_of
from shipyard.copilot.indexer import AssetIndexer, IndexReport
from shipyard.copilot.search import Ranked
from shipyard.copilot.settings import CopilotSettings, copilot_settings
from shipyard.copilot.visibility import Visibility, local_user
from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

_INDEXERS: dict[tuple[str, str, str], AssetIndexer] = {}
_LOCK = threading.Lock()
HARD_LIMIT_CHARS = 100_000
# Below this cosine, with no lexical match either, a hit is noise: the answer says nothing was found.
MIN_COSINE = 0.2


class CopilotService:
    """Questions about the catalog of one workspace, answered from the assets of the caller's projects."""

    def __init__(self, ws: Workspace, settings: CopilotSettings | None = None) -> None:
        self._ws = ws
        self.settings = settings or copilot_settings(ws)

    # -- index ----------------------------------------------------------------------------------------
    @property
    def indexer(self) -> AssetIndexer:
        """The process-wide indexer for this workspace's vector store (opened on first use)."""
        from shipyard.copilot.embedder import get_embedder
        from shipyard.copilot.store import VectorStore

        s = self.settings
        where = s.qdrant_url or str(self._ws.path(s.qdrant_path).resolve())
        key = (where, s.collection, _vector_space(s))
        with _LOCK:
            found = _INDEXERS.get(key)
            if found is None:
                embedder = get_embedder(s.embedding_model, s.embedding_backend)
                store = VectorStore(
                    url=s.qdrant_url,
                    path=self._ws.path(s.qdrant_path),
                    collection=s.collection,
                    model=_vector_space(s),
                    dimension=embedder.dimension,
                )
                found = _INDEXERS[key] = AssetIndexer(store, embedder)
            return found

    def index(self, rebuild: bool = False) -> IndexReport:
        """Bring the index up to date with the catalog (every asset re-embedded with ``rebuild``)."""
        indexer = self.indexer
        with indexer.lock:
            return indexer.full(self._ws.catalog, rebuild=rebuild)

    # -- retrieval ------------------------------------------------------------------------------------
    def check_question(self, question: str) -> tuple[str, list[str]]:
        """The question to use and any flags; empty or absurdly long input is ``InvalidInput``."""
        text = " ".join((question or "").split())
        if not text:
            raise InvalidInput(
                'question is empty; ask in words, e.g. "where is the cleaned transaction history?"'
            )
        if len(text) > HARD_LIMIT_CHARS:
            raise InvalidInput(
                f"question is {len(text)} characters; the limit is {HARD_LIMIT_CHARS} "
                f"(questions over {self.settings.max_question_chars} are truncated)"
            )
        if len(text) > self.settings.max_question_chars:
            return text[: self.settings.max_question_chars], ["question_truncated"]
        return text, []

    def projects_for(self, projects: list[str] | None) -> list[str]:
        """The caller's projects, defaulting to the workspace's."""
        chosen = [p for p in (projects or []) if p] or [self._ws.project]
        return list(dict.fromkeys(chosen))

    def retrieve(
        self, question: str, projects: list[str] | None = None, limit: int | None = None, context: str = ""
    ) -> tuple[list[Ranked], dict[str, float]]:
        """Fused dense + BM25 hits of the caller's projects, best first, and where the time went."""
        text, _ = self.check_question(question)
        indexer = self.indexer
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        with indexer.lock:
            indexer.refresh(self._ws.catalog)
        t1 = time.perf_counter()
        query_vector = indexer.embedder.encode([text])[0]
        t2 = time.perf_counter()
        terms = lexical.query_terms(f"{text} {context[:500]}" if context else text)
        k = limit or self.settings.top_k
        with indexer.lock:
            ranked = indexer.mirror.search(query_vector, terms, self.projects_for(projects), max(k, 20))
        ranked = [r for r in ranked if r.lexical_rank is not None or r.cosine >= MIN_COSINE]
        ranked = self._rerank(text, ranked)[:k]
        t3 = time.perf_counter()
        timings.update(
            refresh_ms=_ms(t1 - t0), embed_ms=_ms(t2 - t1), search_ms=_ms(t3 - t2), retrieval_ms=_ms(t3 - t1)
        )
        return ranked, timings

    def _rerank(self, question: str, ranked: list[Ranked]) -> list[Ranked]:
        from shipyard.copilot.rerank import containment, get_reranker

        reranker = get_reranker(self.settings.reranker)
        return reranker.rerank(question, ranked) if reranker is not None else containment(ranked)

    # -- answers --------------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        projects: list[str] | None = None,
        *,
        user: str | None = None,
        context: str = "",
    ) -> Answer:
        """A cited answer from the assets of ``projects``; masked values follow ``user``'s grants (default: OS user)."""
        answer: Answer | None = None
        for event, value in self.stream(question, projects, user=user, context=context):
            if event == "answer":
                answer = value
        assert answer is not None  # stream always ends with the answer
        return answer

    def stream(
        self,
        question: str,
        projects: list[str] | None = None,
        *,
        user: str | None = None,
        context: str = "",
    ) -> Iterator[tuple[str, Any]]:
        """``("token", text)`` events while the answer is written, then ``("answer", Answer)``."""
        started = time.perf_counter()
        text, flags = self.check_question(question)
        scope = self.projects_for(projects)
        from shipyard.copilot.intents import answer_structured

        structured = answer_structured(self._ws, text, scope)
        if structured is not None:
            structured.flags[:0] = flags
            structured.timings_ms["total_ms"] = _ms(time.perf_counter() - started)
            yield "token", structured.answer
            yield "answer", structured
            return
        ranked, timings = self.retrieve(text, scope, context=context)
        t0 = time.perf_counter()
        ranked, freshness = self._existing(ranked)
        ranked = Visibility(self._ws, user or local_user()).redact(ranked)
        citations = to_citations(ranked, text)
        lineage = self._lineage(ranked, citations)
        extractive = compose(text, ranked, citations, lineage, freshness)
        timings["compose_ms"] = _ms(time.perf_counter() - t0)
        answer = Answer(extractive, citations, timings, flags)
        if self.settings.llm_base_url and ranked:
            from shipyard.copilot.llm import generate

            answer = yield from generate(self.settings, text, ranked, citations, answer)
        else:
            for line in extractive.splitlines(keepends=True):
                yield "token", line
        answer.timings_ms["total_ms"] = _ms(time.perf_counter() - started)
        yield "answer", answer

    def _existing(self, ranked: list[Ranked]) -> tuple[list[Ranked], dict[str, Any]]:
        """Only hits whose asset is still in the catalog (the index may lag a removal by one refresh)."""
        kept, freshness = [], {}
        for r in ranked:
            p = r.payload
            try:
                asset = self._ws.catalog.get(str(p["kind"]), str(p["name"]), str(p["project"]))
            except NotFound:
                continue
            kept.append(r)
            freshness[r.point_id] = freshness_of(asset)
        return kept, freshness

    def _lineage(self, ranked: list[Ranked], citations: list[Citation]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r, c in list(zip(ranked, citations, strict=True))[:3]:
            lines = []
            for e in self._ws.catalog.lineage(c.kind, c.name, c.project, "both", 1):
                if (e.src_kind, e.src_name) == (c.kind, c.name):
                    lines.append(f"{e.relation.replace('_', ' ')} {e.dst_kind} {e.dst_name}")
                else:
                    lines.append(f"{e.src_kind} {e.src_name} {e.relation.replace('_', ' ')} it")
            out[r.point_id] = lines
        return out

    def evaluate(self, path: Any, projects: list[str] | None = None) -> Any:
        """Hit@1, hit@5, MRR and retrieval latency on a ``question<TAB>kind:name|...`` file."""
        return evaluate_file(self, path, projects)

    def close(self) -> None:
        """Release this workspace's index (and the Qdrant local-mode folder lock)."""
        s = self.settings
        where = s.qdrant_url or str(self._ws.path(s.qdrant_path).resolve())
        with _LOCK:
            found = _INDEXERS.pop((where, s.collection, _vector_space(s)), None)
        if found is not None:
            found.store.close()


@atexit.register
def _close_all() -> None:
    # Closing before interpreter teardown releases the folder lock cleanly (qdrant's __del__ cannot).
    for indexer in list(_INDEXERS.values()):
        indexer.store.close()
    _INDEXERS.clear()


def _vector_space(s: CopilotSettings) -> str:
    """Which vectors a collection holds: torch and onnx give the same ones, int8 slightly different ones."""
    return f"{s.embedding_model}#int8" if s.embedding_backend == "onnx-int8" else s.embedding_model


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def copilot_for(ws: Workspace) -> CopilotService:
    """``ws.copilot`` once the workspace carries it; a service bound to ``ws`` until then."""
    service = getattr(ws, "copilot", None)
    if isinstance(service, CopilotService):
        return service
    cached = ws.__dict__.get("_copilot_service")
    if cached is None:
        cached = ws.__dict__["_copilot_service"] = CopilotService(ws)
    return cached


def evaluate_file(service: CopilotService, path: Any, projects: list[str] | None = None) -> Any:
    """Hit@1, hit@5, MRR and retrieval latency of ``service`` on a questions TSV."""
    from pathlib import Path

    from shipyard.copilot.evaluation import evaluate, read_cases

    cases = read_cases(Path(path))
    with service.indexer.lock:
        service.indexer.refresh(service._ws.catalog)

    def rank(question: str) -> list[str]:
        ranked, _ = service.retrieve(question, projects, limit=10)
        return [f"{r.payload.get('kind')}:{r.payload.get('name')}" for r in ranked]

    return evaluate(cases, rank)
