"""A damaged metadata store: a clear error naming the file and how to recover, and a read-only safe mode in
which reads that can still work do, and every change (CLI or REST) is refused."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.governance.service import governance_for
from shipyard.server.app import create_app
from shipyard.store.db import MetadataStore
from shipyard.store.safe_mode import damage_of
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace

runner = CliRunner()
ASSETS = [{"kind": "table", "name": f"sales.t{i}", "description": f"table {i}"} for i in range(3)]


def _db(root: Path) -> Path:
    return root / ".shipyard" / "shipyard.db"


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workspace with users, catalog assets and audit records, then a bulk of events written last (so
    the file's tail pages hold only events), checkpointed into the main file and closed."""
    tmp = tmp_path_factory.mktemp("safe-mode")
    result = init_workspace(tmp / "ws", project="own")
    root = result.root
    feed = tmp / "assets.jsonl"
    feed.write_text("\n".join(json.dumps(a) for a in ASSETS) + "\n")
    for args in (
        ["access", "user-add", "ann"],
        ["access", "bind", "ann", "viewer"],
        ["catalog", "register", str(feed)],
    ):
        assert runner.invoke(app, [*args, "-w", str(root)]).exit_code == 0
    with sqlite3.connect(_db(root)) as conn:
        conn.executemany(
            "INSERT INTO events (project, kind, payload, created_at) VALUES ('own', 'bulk', ?, '2026-01-01')",
            [(json.dumps({"pad": "x" * 3000}),) for _ in range(400)],
        )
    with sqlite3.connect(_db(root)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return root, result.token


@pytest.fixture()
def populated(_template: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """A fresh copy of the template workspace, to damage."""
    root = tmp_path / "ws"
    shutil.copytree(_template[0], root)
    return root, _template[1]


def _truncate(db: Path) -> None:
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.truncate(size - (size // 4096 // 3) * 4096)  # the last third of the pages (events) are gone


def _garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database" * 400)


def _zero_header(db: Path) -> None:
    with open(db, "r+b") as fh:
        fh.write(b"\x00" * 100)


def _half_page(db: Path) -> None:
    with open(db, "r+b") as fh:
        fh.truncate(db.stat().st_size - 1000)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "garbage": _garbage,
    "zeroed-header": _zero_header,
    "torn-last-page": _half_page,
}
WRITES = [
    ["access", "user-add", "bob"],
    ["access", "bind", "ann", "admin"],
    ["token", "create", "ci"],
    ["catalog", "accept", "table", "sales.t0"],
    ["audit", "checkpoint"],
]


def _invoke(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-w", str(root), "--json"])
    return result.exit_code, result.output


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_detected_from_the_header_without_a_scan(populated: tuple[Path, str], kind: str) -> None:
    root, _ = populated
    assert damage_of(_db(root)) is None
    DAMAGE[kind](_db(root))
    reason = damage_of(_db(root))
    assert reason is not None and ("truncated" in reason or "header" in reason)


@pytest.mark.parametrize("kind", list(DAMAGE))
@pytest.mark.parametrize("write", WRITES, ids=[" ".join(w[:2]) for w in WRITES])
def test_every_write_is_refused_naming_the_file_and_the_recovery(
    populated: tuple[Path, str], kind: str, write: list[str]
) -> None:
    root, _ = populated
    DAMAGE[kind](_db(root))
    before = _db(root).read_bytes()
    code, out = _invoke(root, *write)
    assert code == 1, out
    assert str(_db(root)) in out and "To recover" in out and ".recover" in out
    assert _db(root).read_bytes() == before  # the damaged file is never written to


def test_reads_that_can_work_still_work_on_a_truncated_store(
    populated: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = populated
    _truncate(_db(root))
    with Workspace.open(root) as ws:
        assert ws.store.read_only is not None and "truncated" in ws.store.read_only
    code, out = _invoke(root, "audit", "verify")
    assert code == 0 and json.loads(out.splitlines()[-1])["ok"], out
    export = tmp_path / "audit.jsonl"
    code, out = _invoke(root, "audit", "export", "--out", str(export))
    assert code == 0 and json.loads(out.splitlines()[-1])["records"] >= 3, out
    code, out = _invoke(root, "access", "users")
    assert code == 0 and [u["name"] for u in json.loads(out.splitlines()[-1])] == ["ann"], out
    code, out = _invoke(root, "catalog", "show", "table", "sales.t1")
    assert code == 0 and json.loads(out.splitlines()[-1])["description"] == "table 1", out


def test_reads_of_an_unreadable_store_are_a_clear_error(populated: tuple[Path, str]) -> None:
    root, _ = populated
    _garbage(_db(root))
    code, out = _invoke(root, "audit", "verify")
    assert code == 1
    assert str(_db(root)) in out and "not a database" in out and "To recover" in out


def test_the_server_serves_reads_and_refuses_changes(populated: tuple[Path, str]) -> None:
    root, token = populated
    _truncate(_db(root))
    with Workspace.open(root) as ws, TestClient(create_app(ws, close_on_shutdown=False)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        found = client.get("/api/v1/catalog/assets", params={"q": "table"}, headers=headers)
        assert found.status_code == 200 and len(found.json()["assets"]) == 3, found.text
        refused = client.post("/api/v1/catalog/assets", json={"assets": ASSETS[:1]}, headers=headers)
        assert refused.status_code == 503, refused.text
        assert "To recover" in refused.json()["error"]["message"]
        assert governance_for(ws).audit.verify().ok


def test_a_page_damaged_mid_file_is_a_clear_error_at_the_query(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    store = MetadataStore.connect(f"sqlite:///{db}")
    with store.engine.begin() as conn:
        for i in range(300):
            conn.exec_driver_sql(
                "INSERT INTO events (project, kind, payload, created_at) VALUES ('p', 'k', ?, '2026-01-01')",
                (json.dumps({"pad": "y" * 2000, "i": i}),),
            )
    store.dispose()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    with open(db, "r+b") as fh:  # scribble over a page in the middle: the header still looks fine
        fh.seek((size // 4096 // 2) * 4096)
        fh.write(b"\xff" * 4096)
    store = MetadataStore.connect(f"sqlite:///{db}")
    from shipyard.store.safe_mode import StoreDamaged

    with pytest.raises(StoreDamaged, match="To recover"), store.engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*), sum(length(payload)) FROM events").all()
    store.dispose()


def test_a_short_file_with_a_live_wal_is_left_to_sqlite_recovery(populated: tuple[Path, str]) -> None:
    # A checkpoint killed midway writes page 1 (the new size) before the pages past the old end; the WAL
    # still holds every frame, so this is not damage and must not drop the store into safe mode.
    root, _ = populated
    _truncate(_db(root))
    wal = Path(str(_db(root)) + "-wal")
    wal.write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 28)
    assert damage_of(_db(root)) is None
    wal.write_bytes(b"")
    assert damage_of(_db(root)) is not None
