"""Prediction-log overhead on the predict path, log on vs off interleaved in one run (target: p95 +<= 0.5 ms).

- service: ``ws.deployments.predict`` (Feast online lookup + real Triton + log) on the demo's deployment;
- rest: ``POST /api/v1/deployments/churn/predict`` on the same workspace (uvicorn on 127.0.0.1);
- "off" is the same call with ``ws.monitor.log_predictions`` replaced by a no-op for that request; on and
  off alternate in random order per pair, so drift of the machine (2 shared cores) hits both alike;
- enqueue: the request-path cost of logging alone (``MonitorService.log_predictions``: validation,
  Prometheus counters, queue put) vs the raw library doing the naive thing (a synchronous one-row
  ``pyarrow.parquet.write_table`` per request) and vs a bare ``queue.SimpleQueue.put`` (the floor).
"""

from __future__ import annotations

import queue
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.stats import summarize


def run(
    customers: int = 2000, pairs: int = 1000, enqueue_calls: int = 5000, workspace: Path | None = None
) -> dict[str, Any]:
    """Latency with the log on and off (service and REST), the p95 deltas, and the enqueue cost alone.

    ``workspace``: reuse a demo workspace built earlier (skips the demo run, for repeated measurements).
    """
    import httpx
    import pandas as pd

    from shipyard.demo import MODEL_NAME, DemoOptions, _ApiServer, run_demo
    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="shipyard-bench-log-"))
    root = workspace or tmp / "ws"
    if workspace is None:
        run_demo(DemoOptions(workspace=root, customers=customers, requests=5, batch=20))
    ws = Workspace.open(root)
    token = ws.tokens.create("bench").secret
    server = None
    try:
        ws.deployments.ensure_serving()
        dep = ws.deployments.get(MODEL_NAME)
        all_ids = pd.read_parquet(root / "data" / "customers.parquet")["customer_id"].to_numpy()
        rng = np.random.default_rng(7)
        ids = [int(x) for x in rng.choice(all_ids, size=2 * pairs)]
        toggle = _Toggle(ws.monitor)

        def service_call(i: int) -> None:
            ws.deployments.predict(MODEL_NAME, [{"customer_id": i}])

        service = _interleaved(service_call, ids, toggle, rng)

        server = _ApiServer(create_app(ws, close_on_shutdown=False))
        server.start()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as client:

            def rest_call(i: int) -> None:
                r = client.post(f"/deployments/{MODEL_NAME}/predict", json={"entities": [{"customer_id": i}]})
                r.raise_for_status()

            rest = _interleaved(rest_call, ids, toggle, rng)
        enqueue = _enqueue_costs(ws, MODEL_NAME, dep.model_version, dep.feature_columns, enqueue_calls, tmp)
        ws.monitor.flush()
        stats = ws.monitor.writer_stats
    finally:
        if server is not None:
            server.stop()
        ws.close()

    return {
        "pairs": pairs,
        "service": service,
        "rest": rest,
        "enqueue": enqueue,
        "writer": {
            "logged": stats.logged,
            "written": stats.written,
            "dropped": stats.dropped,
            "files": stats.files,
        },
        "target_p95_delta_ms": 0.5,
        "note": "2 shared CPU cores, other jobs running: deltas are noisy; on/off interleaved in random order",
    }


class _Toggle:
    """Turns the prediction log of a MonitorService off (instance-level no-op) and back on."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor

    def set(self, on: bool) -> None:
        if on:
            self.monitor.__dict__.pop("log_predictions", None)
        else:
            self.monitor.log_predictions = lambda *args, **kwargs: None


def _interleaved(call: Callable[[int], None], ids: list[int], toggle: _Toggle, rng: Any) -> dict[str, Any]:
    for i in ids[:20]:  # warm-up: connections, Feast, Triton, the writer thread
        toggle.set(True)
        call(i)
    on_ms: list[float] = []
    off_ms: list[float] = []
    for k in range(0, len(ids) - 1, 2):
        order = (True, False) if rng.random() < 0.5 else (False, True)
        for logging, i in zip(order, (ids[k], ids[k + 1]), strict=True):
            toggle.set(logging)
            t0 = time.perf_counter()
            call(i)
            (on_ms if logging else off_ms).append((time.perf_counter() - t0) * 1000)
    toggle.set(True)
    on, off = summarize(on_ms), summarize(off_ms)
    return {
        "log_on": on,
        "log_off": off,
        "p50_delta_ms": round(on["p50_ms"] - off["p50_ms"], 3),
        "p95_delta_ms": round(on["p95_ms"] - off["p95_ms"], 3),
    }


def _enqueue_costs(
    ws: Any, deployment: str, version: str, columns: list[str], calls: int, tmp: Path
) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shipyard.monitor import PredictionRecord

    rng = np.random.default_rng(11)

    def record() -> PredictionRecord:
        return PredictionRecord(
            request_id=uuid.uuid4().hex,
            ts=datetime.now(UTC),
            entity={"customer_id": int(rng.integers(1, 10**6))},
            features={c: float(v) for c, v in zip(columns, rng.random(len(columns)), strict=True)},
            output={"probability": 0.4, "prediction": 0},
            latency_ms=5.0,
        )

    shipyard_us = []
    for _ in range(calls):
        batch = [record()]
        t0 = time.perf_counter()
        ws.monitor.log_predictions(deployment, version, batch)
        shipyard_us.append((time.perf_counter() - t0) * 1e6)
    ws.monitor.flush()

    raw_dir = tmp / "raw-log"
    raw_dir.mkdir()
    raw_us = []
    for n in range(min(calls, 500)):
        r = record()
        row = {"request_id": r.request_id, "ts": r.ts, **r.entity, **r.features, **r.output}
        t0 = time.perf_counter()
        pq.write_table(pa.Table.from_pylist([row]), raw_dir / f"part-{n}.parquet")
        raw_us.append((time.perf_counter() - t0) * 1e6)

    floor: queue.SimpleQueue[Any] = queue.SimpleQueue()
    put_us = []
    for _ in range(calls):
        item = ("d", [record()])
        t0 = time.perf_counter()
        floor.put(item)
        put_us.append((time.perf_counter() - t0) * 1e6)

    def us(samples: list[float]) -> dict[str, float]:
        return {k.replace("_ms", "_us"): v for k, v in summarize(samples).items()}

    return {
        "shipyard_log_predictions": us(shipyard_us),
        "raw_pyarrow_sync_write_per_request": us(raw_us),
        "raw_queue_put_floor": us(put_us),
    }
