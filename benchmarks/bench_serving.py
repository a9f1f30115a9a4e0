"""Serving throughput and latency: Shipyard's Triton endpoint vs `mlflow models serve`, same model, same rows.

One registered model (gradient boosting, 8 features) is deployed with `ws.deployments.deploy` and also served
by `mlflow models serve --env-manager local` (a real subprocess, one worker). Single-row requests are sent
by 1 and 8 concurrent clients, one connection each:

- shipyard_triton_http / shipyard_triton_grpc: Shipyard's Triton clients (the predict path's own) to the
  model Shipyard deployed;
- mlflow_serve: POST /invocations with the same rows as `dataframe_split` JSON;
- onnxruntime_inprocess: the same ONNX file in-process, one client (the floor).

The client threads share one Python process with the two servers' clients, on a shared 2-core machine:
figures are noisy and comparative, not absolute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.stats import summarize

FEATURES = [f"f{i}" for i in range(8)]
CLIENTS = (1, 8)


def run(requests_per_client: int = 150) -> dict[str, Any]:
    """p50/p95/p99 and throughput per path at 1 and 8 clients, and the Triton/mlflow throughput ratios."""
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier

    from shipyard.config import default_toml
    from shipyard.gpu_runtime.triton_server import free_ports
    from shipyard.workspace import Workspace

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(2000, len(FEATURES))), columns=FEATURES)
    frame["customer_id"] = np.arange(len(frame))
    frame["label"] = ((frame["f0"] + 0.5 * frame["f1"] - frame["f2"]) > 0).astype(int)
    rows = frame[FEATURES].to_numpy(np.float32)[: requests_per_client * max(CLIENTS)]

    tmp = Path(tempfile.mkdtemp(prefix="shipyard-bench-serving-"))
    (tmp / "shipyard.toml").write_text(default_toml("bench"))
    ws = Workspace.open(tmp)
    mlflow_proc = None
    try:
        model = GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0)
        model.fit(frame[FEATURES], frame["label"])
        info = ws.registry.log_model(
            model,
            name="bench",
            training_frame=frame,
            feature_columns=FEATURES,
            target="label",
            feature_refs=[f"bench_view:{f}" for f in FEATURES],
            metrics={},
            params={},
        )
        dep = ws.deployments.deploy("bench")
        server = ws.deployments.triton_server
        assert server is not None, "the benchmark needs the Triton Shipyard starts"

        (port,) = free_ports(1)
        mlflow_proc = _start_mlflow_serve(info.source.removeprefix("file://"), port, tmp / "mlflow-serve.log")
        results: dict[str, Any] = {
            "rows": len(rows),
            "model": "GradientBoostingClassifier(50 trees, 8 features)",
        }
        results["runtime"] = dep.runtime
        unbatched = _serve_unbatched_copy(ws, model, dep.triton_model)
        paths: dict[str, Callable[[], Callable[[np.ndarray], Any]]] = {
            "shipyard_triton_http": lambda: _triton_caller(server.url, dep.triton_model, "http"),
            "shipyard_triton_grpc": lambda: _triton_caller(server.grpc_url, dep.triton_model, "grpc"),
            "triton_grpc_unbatched": lambda: _triton_caller(server.grpc_url, unbatched, "grpc"),
            "mlflow_serve": lambda: _mlflow_caller(port),
        }
        for name, make_caller in paths.items():
            for clients in CLIENTS:
                before = _stats(server.url, dep.triton_model)
                results[f"{name}@{clients}"] = _load(make_caller, rows, clients, requests_per_client)
                if name.startswith("shipyard_triton"):
                    results[f"{name}@{clients}"]["rows_per_execution"] = _rows_per_execution(
                        before, _stats(server.url, dep.triton_model)
                    )
        results["onnxruntime_inprocess@1"] = _onnxruntime(ws, dep.triton_model, rows[:requests_per_client])
        for proto in ("http", "grpc"):
            for clients in CLIENTS:
                ours = results[f"shipyard_triton_{proto}@{clients}"]["throughput_rps"]
                theirs = results[f"mlflow_serve@{clients}"]["throughput_rps"]
                results[f"throughput_ratio_{proto}_vs_mlflow@{clients}"] = round(ours / theirs, 2)
        for clients in CLIENTS:
            ours = results[f"shipyard_triton_grpc@{clients}"]["throughput_rps"]
            plain = results[f"triton_grpc_unbatched@{clients}"]["throughput_rps"]
            results[f"throughput_ratio_batched_vs_unbatched_grpc@{clients}"] = round(ours / plain, 2)
        results["note"] = (
            "noisy: 2 shared cores, clients in one Python process; Triton runs the bundled python backend "
            "(ONNX Runtime CPU) with one instance, mlflow serve one uvicorn worker"
        )
        return results
    finally:
        if mlflow_proc is not None:
            mlflow_proc.terminate()
            try:
                mlflow_proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                mlflow_proc.kill()
                mlflow_proc.wait(timeout=5)
        ws.close()


def _load(
    make_caller: Callable[[], Callable[[np.ndarray], Any]], rows: np.ndarray, clients: int, per_client: int
) -> dict[str, Any]:
    """``clients`` threads, each with its own connection, send ``per_client`` single-row requests."""
    samples: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        try:
            call = make_caller()
            call(rows[index : index + 1])  # warm the connection outside the measurement
            ready.wait()
            mine = rows[index * per_client : (index + 1) * per_client]
            for row in mine:
                t0 = time.perf_counter()
                call(row[None, :])
                samples[index].append((time.perf_counter() - t0) * 1000)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            errors.append(exc)
            ready.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    flat = [s for per in samples for s in per]
    return {**summarize(flat), "clients": clients, "throughput_rps": round(len(flat) / wall, 1)}


def _serve_unbatched_copy(ws: Any, model: Any, triton_model: str) -> str:
    """The same model served with ``max_batch_size: 0`` beside the deployed one, for the batching comparison."""
    from shipyard.gpu_runtime.onnx_export import export_classifier
    from shipyard.gpu_runtime.triton_client import TritonClient
    from shipyard.gpu_runtime.triton_repository import ServingOptions, write_model

    name = f"{triton_model}-unbatched"
    write_model(
        ws.deployments.repository,
        name,
        export_classifier(model, len(FEATURES)),
        ServingOptions(max_batch_size=0),
    )
    client = TritonClient(ws.deployments.triton_url)
    try:
        client.load_model(name)
    finally:
        client.close()
    return name


def _stats(url: str, model: str) -> tuple[int, int]:
    """(inference_count, execution_count) of ``model`` from Triton's statistics endpoint."""
    import json

    with urllib.request.urlopen(f"http://{url}/v2/models/{model}/stats", timeout=10) as answer:  # noqa: S310
        stats = json.load(answer)["model_stats"][0]
    return int(stats["inference_count"]), int(stats["execution_count"])


def _rows_per_execution(before: tuple[int, int], after: tuple[int, int]) -> float:
    executions = after[1] - before[1]
    return round((after[0] - before[0]) / executions, 2) if executions else 0.0


def _triton_caller(url: str, model: str, protocol: str) -> Callable[[np.ndarray], Any]:
    from shipyard.gpu_runtime.triton_client import TritonClient

    client: TritonClient
    if protocol == "grpc":
        from shipyard.gpu_runtime.triton_grpc_client import TritonGrpcClient

        client = TritonGrpcClient(url)
    else:
        client = TritonClient(url)
    return lambda x: client.infer(model, x, input_name="input", outputs=["probabilities", "label"])


def _mlflow_caller(port: int) -> Callable[[np.ndarray], Any]:
    import httpx

    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def call(x: np.ndarray) -> Any:
        body = {"dataframe_split": {"columns": FEATURES, "data": x.astype(float).tolist()}}
        response = client.post("/invocations", json=body)
        response.raise_for_status()
        return response.json()

    return call


def _start_mlflow_serve(model_dir: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "mlflow", "models", "serve", "-m", model_dir,
        "-h", "127.0.0.1", "-p", str(port), "--env-manager", "local", "-w", "1",
    ]  # fmt: skip
    # mlflow execs `uvicorn` by name: this environment's scripts must come first on PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"mlflow models serve exited with {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError(f"mlflow models serve was not ready in 120s: {log.read_text()[-2000:]}")


def _onnxruntime(ws: Any, triton_model: str, rows: np.ndarray) -> dict[str, Any]:
    from shipyard.gpu_runtime.parity import onnx_session
    from shipyard.gpu_runtime.triton_repository import ONNX_FILE

    onnx_file = ws.path(ws.config.serving.model_repository) / triton_model / "1" / ONNX_FILE
    session = onnx_session(onnx_file.read_bytes())
    samples = []
    started = time.perf_counter()
    for row in rows:
        t0 = time.perf_counter()
        session.run(None, {"input": row[None, :]})
        samples.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    return {**summarize(samples), "clients": 1, "throughput_rps": round(len(samples) / wall, 1)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
