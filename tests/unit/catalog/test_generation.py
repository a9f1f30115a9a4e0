"""The catalog generation counter (migration 0005): every asset write or removal moves it, reads do not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from shipyard.store.db import MetadataStore


def test_writes_and_removals_move_the_generation_reads_do_not(workspace: Any) -> None:
    cat = workspace.catalog
    start = cat.generation()
    assert isinstance(start, int)
    cat.upsert("table", "sales.tx", columns=[{"name": "id", "type": "int"}], owner="payments")
    after_write = cat.generation()
    assert after_write > start
    cat.list_changed(None), cat.removed_since(None), cat.get("table", "sales.tx"), cat.search("tx")
    assert cat.generation() == after_write
    cat.upsert("table", "sales.tx", columns=[{"name": "id", "type": "int"}], owner="finance")
    after_change = cat.generation()
    assert after_change > after_write
    assert cat.remove("table", "sales.tx")
    assert cat.generation() > after_change


def test_bulk_register_and_other_process_writes_are_seen(workspace: Any, workspace_dir: Path) -> None:
    cat = workspace.catalog
    before = cat.generation()
    cat.register([{"kind": "table", "name": f"t{i}"} for i in range(5)])
    registered = cat.generation()
    assert registered > before
    script = textwrap.dedent(f"""
        from shipyard.workspace import Workspace
        ws = Workspace.open({str(workspace_dir)!r})
        ws.catalog.upsert("table", "written.elsewhere", description="by another process")
        ws.close()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert cat.generation() > registered


@pytest.mark.parametrize("start", ["0003_governance", "0004_gov_generation"])
def test_older_store_upgrades_to_a_counting_generation(tmp_path: Path, start: str) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    old = MetadataStore.connect(url, migrate=False)
    old.upgrade(start)
    old.dispose()
    store = MetadataStore.connect(url)
    read = "SELECT value FROM catalog_generation WHERE id = 1"
    with store.engine.begin() as conn:
        assert conn.exec_driver_sql(read).scalar() == 0
        conn.exec_driver_sql(
            "INSERT INTO asset_tombstones (project, kind, name, removed_at) "
            "VALUES ('p', 'table', 't', '2026-01-01 00:00:00')"
        )
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql(read).scalar() == 1
    store.dispose()
