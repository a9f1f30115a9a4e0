"""Feature store: Shipyard's feature service next to raw Feast, same repo, same process, same run.

A synthetic Feast repo (one int64 entity) is generated in a temp workspace: ``wide_online`` (2,000
entities x 50 float features, materialized to the SQLite online store) and ``wide_offline`` (100,000 rows x
20 features, offline only). Measured:

* in-process online read, 1 entity x 10 features and 100 entities x 50 features:
  ``ws.features.online_features`` (validation + a pandas frame) vs ``FeatureStore.get_online_features``
  (``.to_dict()``), interleaved, p50/p95;
* REST online read on 127.0.0.1 (1 x 50, 100 x 50): Shipyard's ``POST /api/v1/features/online`` (uvicorn
  subprocess) vs ``feast serve`` (``POST /get-online-features``, its own subprocess), one HTTP keep-alive
  client, interleaved;
* training frame, 100,000 entity rows x 20 features: ``ws.features.training_frame`` vs
  ``get_historical_features(...).to_df()`` on the same entity frame, interleaved (alternating which runs
  first), 7 repetitions each after a warm-up; median and min seconds of wall and of CPU time, ratio of
  medians (and of minimums).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.stats import summarize

ONLINE_ENTITIES = 2_000
FEATURES = 50
FRAME_ROWS = 100_000
FRAME_FEATURES = 20
END = pd.Timestamp("2026-01-01", tz="UTC")

DEFINITIONS = """
from datetime import timedelta
from pathlib import Path
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float32

HERE = Path(__file__).resolve().parent
item = Entity(name="item", join_keys=["item_id"], value_type=ValueType.INT64)
wide_online = FeatureView(
    name="wide_online", entities=[item], ttl=timedelta(days=400),
    schema=[Field(name=f"f{{i:02d}}", dtype=Float32) for i in range({features})],
    source=FileSource(name="online_src", path=str(HERE / "online.parquet"), timestamp_field="event_timestamp"),
)
wide_offline = FeatureView(
    name="wide_offline", entities=[item], ttl=timedelta(days=400), online=False,
    schema=[Field(name=f"g{{i:02d}}", dtype=Float32) for i in range({frame_features})],
    source=FileSource(name="offline_src", path=str(HERE / "offline.parquet"), timestamp_field="event_timestamp"),
)
"""
YAML = """project: bench
provider: local
registry: ../.shipyard/feast/registry.db
online_store:
  type: sqlite
  path: ../.shipyard/feast/online.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""


def _workspace(root: Path) -> str:
    """A Shipyard workspace whose feature repo is the synthetic one; returns an API token."""
    from shipyard.workspace_init import init_workspace

    token = init_workspace(root, project="bench").token
    repo = root / "features"
    repo.mkdir(exist_ok=True)
    (repo / "feature_store.yaml").write_text(YAML)
    (repo / "definitions.py").write_text(DEFINITIONS.format(features=FEATURES, frame_features=FRAME_FEATURES))
    rng = np.random.default_rng(3)
    online = pd.DataFrame(
        {f"f{i:02d}": rng.normal(size=ONLINE_ENTITIES).astype("float32") for i in range(FEATURES)}
    )
    online.insert(0, "item_id", np.arange(ONLINE_ENTITIES, dtype="int64"))
    online["event_timestamp"] = END - pd.Timedelta(days=1)
    online.to_parquet(repo / "online.parquet")
    items = FRAME_ROWS // 5
    offline = pd.DataFrame(
        {
            "item_id": np.repeat(np.arange(items, dtype="int64"), 5),
            "event_timestamp": np.tile([END - pd.Timedelta(days=30 * k) for k in range(5)], items),
        }
    )
    for i in range(FRAME_FEATURES):
        offline[f"g{i:02d}"] = rng.normal(size=len(offline)).astype("float32")
    offline.to_parquet(repo / "offline.parquet")
    return token


def _interleaved(n: int, a: Any, b: Any) -> tuple[list[float], list[float]]:
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(3):
        a(), b()  # warm
    for _ in range(n):
        for fn, out in ((a, ta), (b, tb)):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    return ta, tb


def _training_frames(ship: Any, raw: Any, repeats: int) -> dict[str, Any]:
    """Both calls ``repeats`` times, interleaved, alternating which goes first: median and min seconds.

    Wall time and this process's CPU time (all threads): on a shared machine the CPU time is the steadier
    of the two, as it leaves out the time other processes held the cores.
    """
    wall: dict[str, list[float]] = {"shipyard": [], "feast": []}
    cpu: dict[str, list[float]] = {"shipyard": [], "feast": []}
    pair = [("shipyard", ship), ("feast", raw)]
    for fn in (ship, raw):  # warm: imports, registry cache, parquet metadata
        assert len(fn()) == FRAME_ROWS
    for i in range(repeats):
        for key, fn in pair if i % 2 == 0 else pair[::-1]:
            t, c = time.perf_counter(), time.process_time()
            out = fn()
            cpu[key].append(time.process_time() - c)
            wall[key].append(time.perf_counter() - t)
            assert len(out) == FRAME_ROWS
    result: dict[str, Any] = {"rows": FRAME_ROWS, "features": FRAME_FEATURES, "repeats": repeats}
    for name, timings in (("", wall), ("cpu_", cpu)):
        median = {key: float(np.median(values)) for key, values in timings.items()}
        least = {key: min(values) for key, values in timings.items()}
        for key in timings:
            result[f"{key}_{name}median_s"] = round(median[key], 3)
            result[f"{key}_{name}min_s"] = round(least[key], 3)
        result[f"{name}ratio"] = round(median["shipyard"] / median["feast"], 3)
        result[f"{name}ratio_min"] = round(least["shipyard"] / least["feast"], 3)
    result["target_ratio"] = 1.05
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on port {port}") from None
            time.sleep(0.2)


def _compare(name: str, ship: list[float], raw: list[float], raw_name: str) -> dict[str, Any]:
    s, r = summarize(ship), summarize(raw)
    return {"shipyard": s, raw_name: r, "p95_ratio": round(s["p95_ms"] / r["p95_ms"], 3), "case": name}


def run(samples: int = 200, frame_repeats: int = 7) -> dict[str, Any]:
    """Build the synthetic repo, then time every pair; returns one JSON-able dict."""
    import httpx
    from feast import FeatureStore

    from shipyard.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="bench_features_"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        root = tmp / "ws"
        token = _workspace(root)
        ws = Workspace.open(root)
        ws.features.apply()
        ws.features.materialize()
        raw_store = FeatureStore(repo_path=str(root / "features"))
        refs50 = [f"wide_online:f{i:02d}" for i in range(FEATURES)]
        cases = {
            "1x10": ([{"item_id": 7}], refs50[:10]),
            "100x50": ([{"item_id": i} for i in range(0, 2000, 20)], refs50),
        }
        results: dict[str, Any] = {"benchmark": "features", "in_process": {}, "rest": {}}
        for name, (rows, refs) in cases.items():
            ship, raw = _interleaved(
                samples,
                lambda rows=rows, refs=refs: ws.features.online_features(rows, refs),
                lambda rows=rows, refs=refs: raw_store.get_online_features(
                    features=refs, entity_rows=rows
                ).to_dict(),
            )
            results["in_process"][name] = _compare(name, ship, raw, "feast")

        env = {**os.environ, "FEAST_USAGE": "False"}
        ship_port, feast_port = _free_port(), _free_port()
        server = (
            "import sys, uvicorn; from shipyard.server.app import create_app; from shipyard.workspace import Workspace;"
            "uvicorn.run(create_app(Workspace.open(sys.argv[1])), host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')"
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", server, str(root), str(ship_port)], env=env, stderr=subprocess.DEVNULL
            )
        )
        feast_bin = str(Path(sys.executable).with_name("feast"))
        procs.append(
            subprocess.Popen(
                [
                    feast_bin,
                    "-c",
                    str(root / "features"),
                    "serve",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(feast_port),
                    "--workers",
                    "1",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait(ship_port, procs[0], "shipyard server")
        _wait(feast_port, procs[1], "feast serve")
        with httpx.Client(timeout=30) as client:
            auth = {"Authorization": f"Bearer {token}"}
            for name, count in (("1x50", 1), ("100x50", 100)):
                rows = [{"item_id": i} for i in range(0, 20 * count, 20)]
                ship_body = {"entities": rows, "features": refs50}
                feast_body = {"features": refs50, "entities": {"item_id": [r["item_id"] for r in rows]}}

                def ship_call(ship_body: dict[str, Any] = ship_body) -> None:
                    client.post(
                        f"http://127.0.0.1:{ship_port}/api/v1/features/online", json=ship_body, headers=auth
                    ).raise_for_status()

                def feast_call(feast_body: dict[str, Any] = feast_body) -> None:
                    client.post(
                        f"http://127.0.0.1:{feast_port}/get-online-features", json=feast_body
                    ).raise_for_status()

                ship, raw = _interleaved(samples, ship_call, feast_call)
                results["rest"][name] = _compare(name, ship, raw, "feast_serve")
        results["rest"]["targets_ms"] = {"1x50": 5.0, "100x50": 40.0}

        entity_df = pd.read_parquet(
            root / "features" / "offline.parquet", columns=["item_id", "event_timestamp"]
        )
        entity_df["event_timestamp"] = entity_df["event_timestamp"] + pd.Timedelta(hours=1)
        frame_refs = [f"wide_offline:g{i:02d}" for i in range(FRAME_FEATURES)]
        results["training_frame"] = _training_frames(
            lambda: ws.features.training_frame(entity_df, frame_refs),
            lambda: raw_store.get_historical_features(entity_df=entity_df, features=frame_refs).to_df(),
            frame_repeats,
        )
        ws.close()
        return results
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
