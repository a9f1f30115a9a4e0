"""Keeping the index in step with the catalog: content hashes, changed and removed assets only."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IndexReport:
    """What one indexing pass did."""

    indexed: int
    unchanged: int
    removed: int
    total: int
    seconds: float

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
        for point in store.scan():
            self.mirror.put(point.point_id, point.payload, point.dense, point.lexical)

    def full(self, catalog: Any, rebuild: bool = False) -> IndexReport:
        """Compare every asset with the index: embed new and changed ones, drop ones no longer there."""
        started = time.perf_counter()
        stamp = datetime.now(UTC)
        if rebuild:
            self.store.drop()
            self.mirror = HybridIndex()
        assets = catalog.list_changed(None)
        docs = [to_document(a) for a in assets]
        known = self.mirror.hashes()
        changed = [d for d in docs if known.get(d.point_id) != d.content_hash]
        live = {d.point_id for d in docs}
        gone = [pid for pid in known if pid not in live]
        self._write(changed)
        self._drop(gone)
        self._since = stamp
        return IndexReport(
            len(changed),
            len(docs) - len(changed),
            len(gone),
            len(self.mirror),
            round(time.perf_counter() - started, 3),
        )

    def refresh(self, catalog: Any) -> IndexReport:
        """Apply catalog changes since the last pass (a full pass the first time in this process)."""
        if self._since is None:
            return self.full(catalog)
        started = time.perf_counter()
        stamp = datetime.now(UTC)
        since = self._since - _OVERLAP
        docs = [to_document(a) for a in catalog.list_changed(since)]
        known = self.mirror.hashes()
        changed = [d for d in docs if known.get(d.point_id) != d.content_hash]
        gone = [point_id(t.project, t.kind, t.name) for t in catalog.removed_since(since)]
        gone = [pid for pid in gone if pid in known and pid not in {d.point_id for d in docs}]
        self._write(changed)
        self._drop(gone)
        self._since = stamp
        return IndexReport(
            len(changed),
            len(docs) - len(changed),
            len(gone),
            len(self.mirror),
            round(time.perf_counter() - started, 3),
        )

    def _write(self, docs: list[AssetDocument]) -> None:
        if not docs:
            return
        vectors = self.embedder.encode([d.dense_text for d in docs])
        points = [
            StoredPoint(d.point_id, d.payload, vectors[i].tolist(), lexical.document_vector(d.lexical_text))
            for i, d in enumerate(docs)
        ]
        self.store.upsert(points)
        for i, p in enumerate(points):
            self.mirror.put(p.point_id, p.payload, vectors[i], p.lexical)

    def _drop(self, point_ids: list[str]) -> None:
        self.store.delete(point_ids)
        for pid in point_ids:
            self.mirror.remove(pid)
