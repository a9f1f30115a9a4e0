"""Telling a damaged SQLite store from a busy one, and the read-only safe mode's refusals and messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from shipyard.errors import EngineUnavailable

_MAGIC = b"SQLite format 3\x00"
# sqlite3 messages that mean the file's contents are damaged (not busy, locked or missing).
_CORRUPTION = ("file is not a database", "database disk image is malformed", "file is encrypted")
_READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


def _recovery(path: Path) -> str:
    return (
        f"To recover: stop every Shipyard process using it, keep a copy of {path}, then restore it from a "
        f"backup, or salvage it with `sqlite3 {path} .recover | sqlite3 {path}.recovered` and move "
        f"{path.name}.recovered into place; `shipyard audit verify` then checks the audit chain."
    )


class StoreDamaged(EngineUnavailable):
    """The metadata store's SQLite file is damaged; the message names it and how to recover."""

    code = "store_damaged"

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"metadata store {path} is damaged ({reason}). {_recovery(path)}",
            detail={"path": str(path), "reason": reason},
        )


class StoreReadOnly(EngineUnavailable):
    """A write to a store opened in read-only safe mode: refused, naming the file and how to recover."""

    code = "store_read_only"

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"refused: {self.describe(path, reason)}",
            detail={"path": str(path), "reason": reason, "read_only": True},
        )

    @staticmethod
    def describe(path: Path, reason: str) -> str:
        """The safe-mode notice: what is damaged, what still works, how to recover."""
        return (
            f"metadata store {path} is damaged ({reason}), so it is open read-only: reads that can "
            f"still work do (audit verify/export, listings), every change is refused. {_recovery(path)}"
        )


def damage_of(path: Path) -> str | None:
    """Why the SQLite file at ``path`` is damaged, from its header and size alone (no scan), else None."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None  # a new, empty database
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(_MAGIC):
        return "file is not an SQLite database: its header is wrong"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"file header names an impossible page size {page_size}"
    pages = int.from_bytes(header[28:32], "big")
    # The in-header size is only authoritative when its version stamp matches the change counter, and only
    # with an empty WAL: a checkpoint killed midway has written page 1 before the pages past the old end,
    # and SQLite recovers that from the WAL on open.
    wal = path.with_name(path.name + "-wal")
    header_valid = header[24:28] == header[92:96] and (not wal.exists() or wal.stat().st_size == 0)
    if size % page_size or (header_valid and pages and size < pages * page_size):
        return f"file is truncated: {size} bytes, the header says {pages * page_size}"
    return None


def is_corruption(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is SQLite reporting a damaged file."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sqlite3.DatabaseError) and any(m in str(exc).lower() for m in _CORRUPTION):
            return True
        orig = getattr(exc, "orig", None)
        exc = orig if isinstance(orig, BaseException) else (exc.__cause__ or exc.__context__)
        seen += 1
    return False


def refuse_writes(engine: Engine, path: Path, reason: str) -> None:
    """Refuse every statement that is not a read, before SQLite sees it (the file is also opened ``mode=ro``)."""

    def check(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_READS):
            raise StoreReadOnly(path, reason)

    event.listen(engine, "before_cursor_execute", check)

    def query_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only=ON")
        # SQLite refuses a file shorter than its header says unless the schema is "writable"; on a
        # read-only connection that only makes it read the pages that are there (no write is possible).
        dbapi_conn.execute("PRAGMA writable_schema=ON")

    event.listen(engine, "connect", query_only)


def translate_errors(engine: Engine, path: Path) -> None:
    """A damaged page met mid-query becomes ``StoreDamaged`` (naming the file and recovery), not a traceback."""

    def handle(context: Any) -> None:
        original = context.original_exception
        if isinstance(original, sqlite3.DatabaseError) and is_corruption(original):
            raise StoreDamaged(path, str(original)) from original

    event.listen(engine, "handle_error", handle)
