"""In-process cache of who a token is and which columns a user may read, valid while the generation holds.

Every change to tokens, users, role bindings, grants or mask policies bumps one counter row
(``gov_generation``, by trigger, in the changing transaction; migration 0004). Each lookup first reads that
row (one primary-key read) and drops the whole cache when it moved, so a revocation made by any process
sharing the store takes effect on the very next request, and an unchanged store costs one read instead of
the token, role and grant queries.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from shipyard.store.db import MetadataStore
from shipyard.store.models import utcnow

T = TypeVar("T")
_GENERATION_SQL = "SELECT value FROM gov_generation WHERE id = 1"
_MAX_ENTRIES = 10_000


def secret_key(secret: str) -> str:
    """The cache key of a bearer secret (its sha256; the secret itself is never kept)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class DecisionCache:
    """Values computed from governance tables, keyed by caller, dropped whenever the generation moves."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._entries: dict[tuple[str, ...], tuple[object, datetime | None]] = {}
        self._reader: sqlite3.Connection | None = None
        if store.sqlite_path is not None and store.read_only is None:
            # A pooled SQLAlchemy checkout costs ~10x the read itself; a dedicated autocommit connection
            # starts a fresh WAL read snapshot per statement, so it sees every committed change.
            self._reader = sqlite3.connect(
                f"file:{store.sqlite_path}?mode=ro",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
                timeout=30,
            )
        self._reader_lock = threading.Lock()

    def generation(self) -> int:
        """The store's current governance generation (one primary-key read)."""
        if self._reader is not None:
            with self._reader_lock:
                row = self._reader.execute(_GENERATION_SQL).fetchone()
            return int(row[0]) if row else 0
        with self._store.engine.connect() as conn:
            value = conn.exec_driver_sql(_GENERATION_SQL).scalar()
        return int(value or 0)

    def get(
        self,
        key: tuple[str, ...],
        compute: Callable[[], tuple[T, datetime | None]],
    ) -> T:
        """The cached value for ``key`` at the current generation, else ``compute()`` -> (value, expires_at).

        The generation is read before ``compute`` queries, so what is cached is never older than the
        generation it is filed under. Errors raised by ``compute`` are not cached.
        """
        if self._store.read_only is not None:
            return compute()[0]  # safe mode: nothing can change, and the counter table may be unreadable
        generation = self.generation()
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
            hit = self._entries.get(key)
        if hit is not None and (hit[1] is None or hit[1] > utcnow()):
            return hit[0]  # type: ignore[return-value]
        value, expires_at = compute()
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (value, expires_at)
        return value

    def clear(self) -> None:
        """Forget everything (the next lookup recomputes)."""
        with self._lock:
            self._entries.clear()
            self._generation = None

    def close(self) -> None:
        """Close the dedicated reader connection (a later lookup falls back to the engine)."""
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
