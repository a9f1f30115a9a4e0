"""Qdrant as the copilot's vector store: local mode in the workspace by default, a server by URL.

One collection per embedding model holds every project's assets; each point carries its project in the
payload (indexed on a server) and the dense and BM25 sparse vectors (``Modifier.IDF``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import EngineUnavailable

DENSE = "dense"
LEXICAL = "lexical"
_BATCH = 256


@dataclass(frozen=True)
class StoredPoint:
    """A point as read back: id, payload and both vectors."""

    point_id: str
    payload: dict[str, Any]
    dense: list[float]
    lexical: dict[int, float]


class VectorStore:
    """A Qdrant collection of asset points (open one per process per folder: local mode locks it)."""

    def __init__(self, *, url: str, path: Path, collection: str, model: str, dimension: int) -> None:
        from qdrant_client import QdrantClient

        suffix = hashlib.sha1(model.encode()).hexdigest()[:8]
        self.collection = f"{collection}_{suffix}"
        self.where = url or str(path)
        try:
            if url:
                self._client = QdrantClient(url=url, timeout=10)
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._client = QdrantClient(path=str(path))
        except RuntimeError as exc:
            # Local mode holds an exclusive lock on the folder (portalocker) for the client's lifetime.
            raise EngineUnavailable(
                f"the copilot index at {path} is locked by another process (a running `shipyard server`, "
                "a notebook kernel or another CLI command); stop that process, or point [copilot] "
                "qdrant_url at a Qdrant server so several processes can share the index",
                detail={"path": str(path)},
            ) from exc
        try:
            self._ensure(dimension)
            if not url:
                self._fast_commits()
        except Exception as exc:  # qdrant raises transport-specific errors; all mean "unreachable"
            if isinstance(exc, EngineUnavailable):
                raise
            raise EngineUnavailable(
                f"Qdrant at {self.where} is not usable ({exc}); start it or fix [copilot] qdrant_url"
            ) from exc

    def _ensure(self, dimension: int) -> None:
        from qdrant_client import models

        if self._client.collection_exists(self.collection):
            return
        self._client.create_collection(
            self.collection,
            vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
            sparse_vectors_config={LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if self.where.startswith(("http://", "https://")):
            self._client.create_payload_index(
                self.collection, "project", field_schema=models.PayloadSchemaType.KEYWORD
            )

    def _fast_commits(self) -> None:
        """Local mode commits every point to SQLite with an fsync (~20 ms each on a busy disk): switch the
        collection file to WAL with ``synchronous=NORMAL``, which keeps it consistent but lets a power cut
        drop the last writes. That is safe here: the index is derived from the catalog, and points whose
        content hash is missing or stale are simply embedded again on the next pass."""
        collections = getattr(getattr(self._client, "_client", None), "collections", {})
        storage = getattr(getattr(collections.get(self.collection), "storage", None), "storage", None)
        if storage is not None:  # qdrant-client internals: without them, writes are only slower
            storage.execute("PRAGMA journal_mode=WAL")
            storage.execute("PRAGMA synchronous=NORMAL")

    def upsert(self, points: list[StoredPoint]) -> None:
        """Write points (replacing any with the same id)."""
        from qdrant_client import models

        for start in range(0, len(points), _BATCH):
            batch = [
                models.PointStruct(
                    id=p.point_id,
                    payload=p.payload,
                    vector={
                        DENSE: p.dense,
                        LEXICAL: models.SparseVector(
                            indices=list(p.lexical), values=list(p.lexical.values())
                        ),
                    },
                )
                for p in points[start : start + _BATCH]
            ]
            self._client.upsert(self.collection, batch, wait=True)

    def delete(self, point_ids: list[str]) -> None:
        """Remove points by id."""
        from qdrant_client import models

        if point_ids:
            self._client.delete(self.collection, models.PointIdsList(points=list(point_ids)), wait=True)

    def scan(self) -> Iterator[StoredPoint]:
        """Every stored point with its vectors."""
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self.collection, limit=_BATCH, offset=offset, with_payload=True, with_vectors=True
            )
            for r in records:
                vectors: Any = r.vector or {}
                sparse = vectors.get(LEXICAL)
                lexical = dict(zip(sparse.indices, sparse.values, strict=True)) if sparse else {}
                yield StoredPoint(str(r.id), dict(r.payload or {}), list(vectors.get(DENSE, [])), lexical)
            if offset is None:
                return

    def drop(self) -> None:
        """Delete the collection (``index --rebuild``); it is re-created empty."""
        dim = self._dimension()
        self._client.delete_collection(self.collection)
        self._ensure(dim)

    def _dimension(self) -> int:
        info = self._client.get_collection(self.collection)
        vectors: Any = info.config.params.vectors
        return int(vectors[DENSE].size)

    def close(self) -> None:
        """Release the local-mode folder lock."""
        self._client.close()
