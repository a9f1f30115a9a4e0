"""Predict latency, one entity per request, interleaved sample by sample over the same model and rows:

- shipyard_endpoint: POST /api/v1/deployments/churn/predict with an entity (REST + auth + Feast online lookup +
  Triton + prediction log) on `shipyard server` in its own process, as users run it (Triton over HTTP);
  ``_grpc``: the same with ``[serving] protocol = "grpc"``; ``_rows``: the raw feature row (no lookup);
  ``_inthread``: uvicorn in a thread of the benchmark's own process (shares its GIL with the clients);
  ``_same_client``: the entity route called with geventhttpclient, the HTTP client tritonclient.http sits on,
  so that its difference to triton_direct is server-side time only (httpx alone costs ~0.3-0.5 ms a call);
- shipyard_service: ``ws.deployments.predict`` in-process (the same work without HTTP and auth);
- triton_direct: tritonclient.http to the same Triton model with the same feature row (the target's "raw");
- onnxruntime: the same ONNX file in-process (the floor).
Each round runs every path once, in an order rotated per round, so load on a shared machine hits all paths
alike. The workspace comes from `shipyard demo` at a reduced size, so the model is the one the demo deploys.
Target (issue 5): shipyard p95 <= raw p95 + 3 ms, "raw" read two ways: triton_direct (the raw Triton call the
endpoint wraps; entity route, lookup included) and raw onnxruntime in-process (rows route: both take the
feature row, so neither pays a lookup).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.stats import summarize

TARGET_EXTRA_MS = 3.0


def run(customers: int = 5000, requests: int = 400, workspace: Path | None = None) -> dict[str, Any]:
    """Interleaved latency figures for every path, and whether the p95 target holds."""
    import httpx
    import onnxruntime as ort
    import pandas as pd

    from shipyard.demo import MODEL_NAME, DemoOptions, _ApiServer, run_demo
    from shipyard.gpu_runtime.triton_repository import ONNX_FILE
    from shipyard.server.app import create_app
    from shipyard.workspace import Workspace

    if workspace is None:
        workspace = Path(tempfile.mkdtemp(prefix="shipyard-bench-")) / "ws"
        run_demo(DemoOptions(workspace=workspace, customers=customers, requests=5, batch=20))
    ws = Workspace.open(workspace)
    token = ws.tokens.create("bench").secret
    server = None
    processes: list[_ServerProcess] = []
    try:
        ws.deployments.ensure_serving()
        dep = ws.deployments.get(MODEL_NAME)
        all_ids = pd.read_parquet(workspace / "data" / "customers.parquet")["customer_id"].to_numpy()
        n = min(requests, len(all_ids))
        ids = [int(x) for x in np.random.default_rng(3).choice(all_ids, size=n, replace=False)]
        online = ws.features.online_features([{"customer_id": i} for i in ids], dep.feature_refs)
        matrix = online[dep.feature_columns].to_numpy(dtype=np.float32)
        raw_rows = [{c: float(v) for c, v in zip(dep.feature_columns, row, strict=True)} for row in matrix]

        server = _ApiServer(create_app(ws, close_on_shutdown=False))
        server.start()
        triton_server = ws.deployments.triton_server
        grpc_url = triton_server.grpc_url if triton_server is not None else ""
        http_proc = _ServerProcess(workspace, ws.deployments.triton_url or "", grpc_url, "http")
        grpc_proc = _ServerProcess(workspace, ws.deployments.triton_url or "", grpc_url, "grpc")
        processes += [http_proc, grpc_proc]
        onnx_file = ws.path(ws.config.serving.model_repository) / dep.triton_model / "1" / ONNX_FILE
        session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/deployments/{MODEL_NAME}/predict"
        for proc in processes:
            proc.wait_ready()
        with (
            httpx.Client(base_url=server.url, headers=headers, timeout=60) as api_thread,
            httpx.Client(base_url=http_proc.url, headers=headers, timeout=60) as api,
            httpx.Client(base_url=grpc_proc.url, headers=headers, timeout=60) as api_grpc,
            _RawTriton(ws.deployments.triton_url or "", dep.triton_model) as triton,
        ):

            def ok(response: httpx.Response) -> None:
                response.raise_for_status()

            same_client = _SameClient(http_proc.url, headers)

            def entity(i: int) -> dict[str, Any]:
                return {"entities": [{"customer_id": ids[i]}]}

            paths: dict[str, Callable[[int], Any]] = {
                "shipyard_endpoint": lambda i: ok(api.post(url, json=entity(i))),
                "shipyard_endpoint_grpc": lambda i: ok(api_grpc.post(url, json=entity(i))),
                "shipyard_endpoint_rows": lambda i: ok(api.post(url, json={"rows": [raw_rows[i]]})),
                "shipyard_endpoint_inthread": lambda i: ok(api_thread.post(url, json=entity(i))),
                "shipyard_endpoint_same_client": lambda i: same_client.post(url, entity(i)),
                "shipyard_service": lambda i: ws.deployments.predict(MODEL_NAME, [{"customer_id": ids[i]}]),
                "triton_direct": lambda i: triton.infer(matrix[i : i + 1]),
                "onnxruntime_inprocess": lambda i: session.run(None, {input_name: matrix[i : i + 1]}),
            }
            samples = _interleaved(paths, n)
            same_client.close()
        ws.monitor.flush()
    finally:
        for proc in processes:
            proc.stop()
        if server is not None:
            server.stop()
        ws.close()

    figures = {name: summarize(values) for name, values in samples.items()}
    s, t = figures["shipyard_endpoint"], figures["triton_direct"]
    same, rows = figures["shipyard_endpoint_same_client"], figures["shipyard_endpoint_rows"]
    ort_p95 = figures["onnxruntime_inprocess"]["p95_ms"]
    return {
        "rows": n,
        **figures,
        "extra_p95_ms_shipyard_vs_triton": round(s["p95_ms"] - t["p95_ms"], 3),
        "extra_p50_ms_shipyard_vs_triton": round(s["p50_ms"] - t["p50_ms"], 3),
        "target_p95_within_triton_plus_3ms": s["p95_ms"] <= t["p95_ms"] + TARGET_EXTRA_MS,
        "extra_p95_ms_same_client_vs_triton": round(same["p95_ms"] - t["p95_ms"], 3),
        "extra_p95_ms_rows_route_vs_onnxruntime": round(rows["p95_ms"] - ort_p95, 3),
        "target_p95_rows_route_within_onnxruntime_plus_3ms": rows["p95_ms"] <= ort_p95 + TARGET_EXTRA_MS,
        "extra_p95_ms_grpc_route_vs_triton": round(
            figures["shipyard_endpoint_grpc"]["p95_ms"] - t["p95_ms"], 3
        ),
        "note": "interleaved per sample; shipyard_endpoint is `shipyard server` in its own process (the way it is "
        "run); it includes REST, auth, Feast online lookup (SQLite), Triton and async prediction logging; "
        "timings on a shared machine are noisy",
    }


def _interleaved(paths: dict[str, Callable[[int], Any]], n: int) -> dict[str, list[float]]:
    names = list(paths)
    for name in names:  # warm every path (connections, caches, model load) before sampling
        for i in range(min(10, n)):
            paths[name](i)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(n):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            t0 = time.perf_counter()
            paths[name](i)
            samples[name].append((time.perf_counter() - t0) * 1000)
    return samples


class _SameClient:
    """POST JSON with geventhttpclient (tritonclient.http's transport): one kept-alive connection."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        from geventhttpclient import HTTPClient
        from geventhttpclient.url import URL

        self._base = URL(base_url)
        self._client = HTTPClient.from_url(self._base, concurrency=1, network_timeout=60)
        self._headers = {**headers, "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any]) -> None:
        response = self._client.post(self._base.path + path, body=json.dumps(body), headers=self._headers)
        payload = response.read()
        if response.status_code != 200:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {payload[:300]!r}")

    def close(self) -> None:
        self._client.close()


class _RawTriton:
    """tritonclient.http as a user would call it: one client, binary tensors in and out."""

    def __init__(self, url: str, model: str) -> None:
        import tritonclient.http as httpclient

        self.model = model
        self.client = httpclient.InferenceServerClient(url=url.replace("http://", ""))
        meta = self.client.get_model_metadata(model)
        self.input_name = meta["inputs"][0]["name"]
        self.outputs = [httpclient.InferRequestedOutput(o["name"], binary_data=True) for o in meta["outputs"]]

    def infer(self, row: np.ndarray) -> Any:
        import tritonclient.http as httpclient

        tensor = httpclient.InferInput(self.input_name, list(row.shape), "FP32")
        tensor.set_data_from_numpy(row, binary_data=True)
        return self.client.infer(self.model, [tensor], outputs=self.outputs)

    def __enter__(self) -> _RawTriton:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()


class _ServerProcess:
    """`shipyard server --no-serve` in its own process, pointed at the benchmark's Triton."""

    def __init__(self, workspace: Path, triton_url: str, grpc_url: str, protocol: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        env = {
            **os.environ,
            "SHIPYARD_SERVING__TRITON_URL": triton_url,
            "SHIPYARD_SERVING__TRITON_GRPC_URL": grpc_url,
            "SHIPYARD_SERVING__PROTOCOL": protocol,
        }
        cli = "from shipyard.cli.main import app; app()"
        command = [sys.executable, "-c", cli, "server", "--no-serve", "--port", str(self.port)]
        self._proc = subprocess.Popen(
            [*command, "--workspace", str(workspace)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"shipyard server exited with {self._proc.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("shipyard server did not answer /health in time")

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
