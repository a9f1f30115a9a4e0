"""Connection to the metadata store; every open upgrades the schema to the newest Alembic revision.

A damaged SQLite file (garbage, truncated, "malformed") is opened in a read-only safe mode instead of
failing outright: reads that can still work do (audit verify/export, catalog listing), and every write is
refused with a message naming the file and how to recover it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from shipyard.errors import EngineUnavailable
from shipyard.store.safe_mode import (
    StoreDamaged,
    StoreReadOnly,
    damage_of,
    is_corruption,
    refuse_writes,
    translate_errors,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_upgrade_lock = threading.Lock()
_log = logging.getLogger(__name__)

__all__ = ["MetadataStore", "StoreDamaged", "StoreReadOnly"]


class MetadataStore:
    """Engine + session factory for the workspace's metadata database."""

    def __init__(self, engine: Engine, sqlite_path: Path | None = None, read_only: str | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # The database file of an SQLite store (None for PostgreSQL or in-memory).
        self.sqlite_path = sqlite_path
        # Why the store is in read-only safe mode (None: normal, writable).
        self.read_only = read_only

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> MetadataStore:
        """Open ``url`` (SQLite files get WAL and a busy timeout) and bring the schema up to date."""
        kwargs: dict[str, Any] = {}
        sqlite_path: Path | None = None
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                sqlite_path = Path(path)
                sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                damage = damage_of(sqlite_path)
                if damage is not None:
                    return cls.open_read_only(sqlite_path, damage)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
            if sqlite_path is not None:
                translate_errors(engine, sqlite_path)
        store = cls(engine, sqlite_path)
        if migrate:
            try:
                store.upgrade()
            except EngineUnavailable as exc:
                if sqlite_path is None or not is_corruption(exc):
                    raise
                engine.dispose()
                return cls.open_read_only(sqlite_path, str(exc.__cause__ or exc))
        return store

    @classmethod
    def open_read_only(cls, path: Path, reason: str) -> MetadataStore:
        """The safe mode: ``path`` opened read-only (SQLite never writes to it), every write refused."""
        engine = create_engine(
            f"sqlite:///file:{path}?mode=ro&uri=true",
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        refuse_writes(engine, path, reason)
        translate_errors(engine, path)
        _log.warning("%s", StoreReadOnly.describe(path, reason))
        return cls(engine, path, reason)

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision`` (an older workspace upgrades in place)."""
        from alembic import command
        from alembic.config import Config

        if self.read_only is not None:
            raise StoreReadOnly(self.sqlite_path or Path("?"), self.read_only)
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            # Connecting is inside: a corrupted SQLite file fails here, and gets the same actionable message.
            with _upgrade_lock, self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        except Exception as exc:  # noqa: BLE001 - re-raised with the URL a user can check
            raise EngineUnavailable(
                f"metadata store at {self.engine.url!r} could not be opened or migrated: {exc}"
            ) from exc

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
