"""Predict latency, one entity per request, three ways over the same model and rows in one run:

- shipyard: POST /api/v1/deployments/churn/predict (REST + Feast online lookup + Triton + prediction log);
- triton_direct: tritonclient.http to the same Triton model with the same feature rows;
- onnxruntime: the same ONNX file in-process (the floor).
The workspace comes from `shipyard demo` at a reduced size, so the model is the one the demo deploys.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.stats import summarize


def run(customers: int = 5000, requests: int = 300) -> dict[str, Any]:
    """Latency figures for the three paths and the ratios to raw onnxruntime."""
    import httpx
    import onnxruntime as ort
    import pandas as pd

    from shipyard.demo import MODEL_NAME, DemoOptions, _ApiServer, run_demo
    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="shipyard-bench-"))
    run_demo(DemoOptions(workspace=tmp / "ws", customers=customers, requests=5, batch=20))
    ws = Workspace.open(tmp / "ws")
    token = ws.tokens.create("bench").secret
    server = None
    try:
        ws.deployments.ensure_serving()
        dep = ws.deployments.get(MODEL_NAME)
        all_ids = pd.read_parquet(tmp / "ws" / "data" / "customers.parquet")["customer_id"].to_numpy()
        ids = [int(x) for x in np.random.default_rng(3).choice(all_ids, size=requests, replace=False)]
        rows = ws.features.online_features([{"customer_id": i} for i in ids], dep.feature_refs)
        cols = [ref.split(":", 1)[1] for ref in dep.feature_refs]
        matrix = rows[cols].to_numpy(dtype=np.float32)

        server = _ApiServer(create_app(ws, close_on_shutdown=False))
        server.start()
        shipyard_ms = []
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as client:
            client.post(f"/deployments/{MODEL_NAME}/predict", json={"entities": [{"customer_id": ids[0]}]})
            for i in ids:
                t0 = time.perf_counter()
                r = client.post(f"/deployments/{MODEL_NAME}/predict", json={"entities": [{"customer_id": i}]})
                shipyard_ms.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()

        triton_ms = _triton_direct(ws, dep, matrix)

        from shipyard.gpu_runtime.triton_repository import ONNX_FILE

        onnx_file = ws.path(ws.config.serving.model_repository) / dep.triton_model / "1" / ONNX_FILE
        session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name
        ort_ms = []
        for row in matrix:
            t0 = time.perf_counter()
            session.run(None, {input_name: row[None, :]})
            ort_ms.append((time.perf_counter() - t0) * 1000)
        ws.monitor.flush()
    finally:
        if server is not None:
            server.stop()
        ws.close()

    s, t, o = summarize(shipyard_ms), summarize(triton_ms), summarize(ort_ms)
    return {
        "rows": len(ids),
        "shipyard_endpoint": s,
        "triton_direct": t,
        "onnxruntime_inprocess": o,
        "ratio_p50_shipyard_vs_triton": round(s["p50_ms"] / t["p50_ms"], 2),
        "ratio_p50_triton_vs_onnxruntime": round(t["p50_ms"] / o["p50_ms"], 2),
        "note": "shipyard includes REST, auth, Feast online lookup (SQLite), Triton and async prediction logging",
    }


def _triton_direct(ws: Any, dep: Any, matrix: np.ndarray) -> list[float]:
    import tritonclient.http as httpclient

    url = ws.deployments.triton_url.replace("http://", "")
    client = httpclient.InferenceServerClient(url=url)
    meta = client.get_model_metadata(dep.triton_model)
    in_name = meta["inputs"][0]["name"]
    samples = []
    for row in matrix:
        inp = httpclient.InferInput(in_name, [1, matrix.shape[1]], "FP32")
        inp.set_data_from_numpy(row[None, :])
        t0 = time.perf_counter()
        client.infer(dep.triton_model, [inp])
        samples.append((time.perf_counter() - t0) * 1000)
    client.close()
    return samples
