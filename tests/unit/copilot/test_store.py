"""Qdrant local mode as the copilot's store: fast commits stay durable across reopen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shipyard.copilot.store import StoredPoint, VectorStore


def point(i: int) -> StoredPoint:
    pid = f"00000000-0000-0000-0000-{i:012d}"
    return StoredPoint(pid, {"project": "p", "hash": str(i)}, [1.0, float(i), 0.0], {7: 1.0, i + 10: 0.5})


def test_local_points_survive_reopen_with_wal_commits(tmp_path: Path) -> None:
    store = VectorStore(url="", path=tmp_path / "q", collection="c", model="m", dimension=3)
    store.upsert([point(i) for i in range(5)])
    store.delete([point(4).point_id])
    store.close()
    files = list((tmp_path / "q").rglob("storage.sqlite"))
    assert len(files) == 1
    with sqlite3.connect(files[0]) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = VectorStore(url="", path=tmp_path / "q", collection="c", model="m", dimension=3)
    got = {p.point_id: p for p in again.scan()}
    again.close()
    assert sorted(got) == [point(i).point_id for i in range(4)]
    assert got[point(2).point_id].payload["hash"] == "2"
    assert got[point(2).point_id].lexical == {7: 1.0, 12: 0.5}
