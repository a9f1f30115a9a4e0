"""Keeping the index in step with the catalog: content hashes, changed and removed assets only."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shipyard.copilot import lexical
from shipyard.copilot.documents import AssetDocument, point_id, to_document
from shipyard.copilot.search import HybridIndex
from shipyard.copilot.store import StoredPoint, VectorStore

if TYPE_CHECKING:
    from shipyard.copilot.embedder import Embedder

# Catalog timestamps and ours come from different clocks' roundings; re-reading a second is harmless.
_OVERLAP = timedelta(seconds=1)
# Assets embedded per step of a large pass; the previous step is stored meanwhile. Measured on 2 busy
# cores (interleaved, 4k assets): 77-82 assets/s pipelined vs 55-65 serial. PIPELINE=False is the serial
# path, kept so the benchmark can compare.
_CHUNK = 512
PIPELINE = True


@dataclass(frozen=True)
class IndexReport:
    """What one indexing pass did; ``phases`` are seconds per phase (store overlaps embed)."""

    indexed: int
    unchanged: int
    removed: int
    total: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def assets_per_s(self) -> float:
        """Indexed assets per second of this pass (0 when nothing was embedded)."""
        return round(self.indexed / self.seconds, 1) if self.seconds > 0 and self.indexed else 0.0


class AssetIndexer:
    """Embeds changed assets into the vector store and its in-process mirror."""

    def __init__(self, store: VectorStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self.mirror = HybridIndex()
        # Refreshes and searches share the mirror; server requests run on a thread pool.
        self.lock = threading.RLock()
        self._since: datetime | None = None
        # The catalog generation the last pass saw (None: unknown, so every refresh queries changes).
        self._generation: int | None = None
        self._phases: dict[str, float] = {}
        for point in store.scan():
            self.mirror.put(point.point_id, point.payload, point.dense, point.lexical)

    def full(self, catalog: Any, rebuild: bool = False) -> IndexReport:
        """Compare every asset with the index: embed new and changed ones, drop ones no longer there."""
        started = time.perf_counter()
        if rebuild:
            self.store.drop()
            self.mirror = HybridIndex()
        return self._pass(catalog, None, started)

    def refresh(self, catalog: Any) -> IndexReport:
        """Apply catalog changes since the last pass (a full pass the first time in this process).

        An unchanged catalog generation (one row read) means nothing to do: no change queries run.
        """
        if self._since is None:
            return self.full(catalog)
        started = time.perf_counter()
        generation = _generation(catalog)
        if generation is not None and generation == self._generation:
            return IndexReport(0, 0, 0, len(self.mirror), round(time.perf_counter() - started, 3))
        return self._pass(catalog, self._since - _OVERLAP, started, generation)

    def _pass(
        self, catalog: Any, since: datetime | None, started: float, generation: int | None = None
    ) -> IndexReport:
        """Embed what changed after ``since`` (everything when None) and drop what was removed."""
        stamp = datetime.now(UTC)
        if since is None:
            # Read before listing: a write landing mid-pass moves it again, so the next refresh looks.
            generation = _generation(catalog)
        self._phases = {"embed": 0.0, "store": 0.0}
        docs = [to_document(a) for a in catalog.list_changed(since)]
        known = self.mirror.hashes()
        changed = [d for d in docs if known.get(d.point_id) != d.content_hash]
        live = {d.point_id for d in docs}
        if since is None:
            gone = [pid for pid in known if pid not in live]
        else:
            removed = (point_id(t.project, t.kind, t.name) for t in catalog.removed_since(since))
            gone = [pid for pid in removed if pid in known and pid not in live]
        self._phases["read"] = round(time.perf_counter() - started, 3)
        self._write(changed)
        self._drop(gone)
        self._since, self._generation = stamp, generation
        phases = {k: round(v, 3) for k, v in self._phases.items()}
        return IndexReport(
            len(changed),
            len(docs) - len(changed),
            len(gone),
            len(self.mirror),
            round(time.perf_counter() - started, 3),
            phases,
        )

    def _write(self, docs: list[AssetDocument]) -> None:
        """Embed in chunks; while onnxruntime embeds one chunk (GIL released), a worker stores the last."""
        if len(docs) <= _CHUNK or not PIPELINE:
            self._store(docs, self._embed(docs))
            return
        from concurrent.futures import Future, ThreadPoolExecutor

        with ThreadPoolExecutor(1, thread_name_prefix="copilot-index") as worker:
            pending: Future[None] | None = None
            for start in range(0, len(docs), _CHUNK):
                chunk = docs[start : start + _CHUNK]
                vectors = self._embed(chunk)
                if pending is not None:
                    pending.result()  # one chunk in flight: bounded memory, errors surface here
                pending = worker.submit(self._store, chunk, vectors)
            if pending is not None:
                pending.result()

    def _embed(self, docs: list[AssetDocument]) -> Any:
        if not docs:
            return None
        started = time.perf_counter()
        vectors = self.embedder.encode([d.dense_text for d in docs])
        self._phases["embed"] = self._phases.get("embed", 0.0) + time.perf_counter() - started
        return vectors

    def _store(self, docs: list[AssetDocument], vectors: Any) -> None:
        """BM25 vectors, Qdrant upsert and mirror update of one embedded chunk (in order, one at a time)."""
        if not docs:
            return
        started = time.perf_counter()
        points = [
            StoredPoint(d.point_id, d.payload, vectors[i].tolist(), lexical.document_vector(d.lexical_text))
            for i, d in enumerate(docs)
        ]
        self.store.upsert(points)
        for i, p in enumerate(points):
            self.mirror.put(p.point_id, p.payload, vectors[i], p.lexical)
        self._phases["store"] = self._phases.get("store", 0.0) + time.perf_counter() - started

    def _drop(self, point_ids: list[str]) -> None:
        self.store.delete(point_ids)
        for pid in point_ids:
            self.mirror.remove(pid)


def _generation(catalog: Any) -> int | None:
    """The catalog's change counter, or None when it cannot tell (then every refresh queries changes)."""
    read = getattr(catalog, "generation", None)
    return read() if callable(read) else None
