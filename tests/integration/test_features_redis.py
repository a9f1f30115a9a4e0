"""Scale-out: the churn repo pointed at a real Redis online store works unchanged through Shipyard."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.examples.churn import create_example_workspace
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration
REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def redis_port(tmp_path: Path) -> Iterator[int]:
    if REDIS is None:
        pytest.fail("redis-server is not installed; run `make sysdeps` (Debian package redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_apply_materialize_and_read_online_through_redis(tmp_path: Path, redis_port: int) -> None:
    import redis

    root = create_example_workspace(tmp_path / "ws", customers=100)
    yaml_path = root / "features" / "feature_store.yaml"
    text = yaml_path.read_text()
    sqlite_block = "online_store:\n  type: sqlite\n  path: ../.shipyard/feast/online.db\n"
    assert sqlite_block in text
    yaml_path.write_text(
        text.replace(
            sqlite_block,
            f'online_store:\n  type: redis\n  connection_string: "127.0.0.1:{redis_port}"\n',
        )
    )
    ws = Workspace.open(root)
    try:
        ws.features.apply()
        ws.features.materialize()
        assert redis.Redis(port=redis_port).dbsize() > 0
        assert not (root / ".shipyard" / "feast" / "online.db").exists()
        refs = ws.features.feature_refs("churn_v1")
        frame = ws.features.online_features([{"customer_id": 100_000}, {"customer_id": 1}], refs)
        assert frame.loc[0, refs[0].split(":")[1]] > 0
        assert frame.iloc[1, 1:].isna().all()  # an unknown customer has no values
        # The direct provider read (online_read.py) agrees with Feast's own get_online_features on Redis.
        from shipyard.features.online_read import read_online

        rows = [{"customer_id": c} for c in (100_003, 7, 100_000, 100_003)]
        views = {v.name: v for v in ws.features.store.list_feature_views()}
        feast = ws.features.store.get_online_features(features=refs, entity_rows=rows).to_dict()
        direct = read_online(ws.features.store, views, refs, rows)
        assert direct == {r.split(":")[1]: feast[r.split(":")[1]] for r in refs}
        detail = ws.features.describe("customer_profile", with_stats=False)
        assert detail.last_materialized is not None
    finally:
        ws.close()
