"""The end-to-end demo: example data -> Feast -> notebook pipeline (Dagster) -> MLflow -> Triton -> drift ->
alert -> webhook -> retraining run -> promotion gate.

Each stage calls the same service a CLI command or REST route would. Predictions go through the real REST
endpoint (uvicorn on 127.0.0.1) so the demo exercises the path a client uses. Every process started here
(Triton, the API server and webhook receiver threads) is stopped in ``finally``, on failure and on Ctrl-C alike.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.demo_loop import WebhookReceiver, loop_detail, run_monitor_loop
from shipyard.errors import InvalidInput, OperationFailed

DEMO_MARKER = ".shipyard-demo-workspace"
MODEL_NAME = "churn"
PIPELINE_NAME = "churn_training"
FEATURE_SERVICE = "churn_v1"
# The acceptance story's first question (DESIGN.md, "Discover").
DEMO_QUESTION = "where is the cleaned transaction history with refund flags?"


@dataclass
class DemoStep:
    name: str
    seconds: float
    detail: str


@dataclass
class DemoResult:
    workspace: Path
    steps: list[DemoStep] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoOptions:
    workspace: Path
    customers: int = 50_000
    requests: int = 40
    batch: int = 50
    shift_feature: str | None = None
    shift_factor: float = 2.5


class _ApiServer:
    """uvicorn running the Shipyard app in a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = _free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, name="shipyard-demo-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self, timeout_s: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise OperationFailed("the demo API server did not start on 127.0.0.1")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_workspace(path: Path, customers: int) -> tuple[Path, str]:
    """A fresh example workspace at ``path``; only a folder the demo made itself is ever replaced."""
    from shipyard.workspace_init import init_workspace

    path = path.expanduser().resolve()
    if path.exists():
        if path.is_file():
            raise InvalidInput(f"demo workspace {path} is a file; pass a folder")
        if any(path.iterdir()):
            if not (path / DEMO_MARKER).exists():
                raise InvalidInput(
                    f"{path} is not empty and was not made by `shipyard demo`; pass another folder"
                )
            shutil.rmtree(path)
    result = init_workspace(path, example="churn", customers=customers)
    (path / DEMO_MARKER).write_text("made by `shipyard demo`; safe to delete\n")
    return result.root, result.token


def run_demo(options: DemoOptions, on_step: Callable[[DemoStep], None] = lambda s: None) -> DemoResult:
    """Run every stage; returns timings and where each artifact lives."""
    from shipyard.workspace import Workspace

    result = DemoResult(workspace=options.workspace)

    @contextmanager
    def step(name: str) -> Iterator[dict[str, str]]:
        holder = {"detail": ""}
        t0 = time.perf_counter()
        yield holder
        done = DemoStep(name, time.perf_counter() - t0, holder["detail"])
        result.steps.append(done)
        on_step(done)

    with step("workspace + example data") as s:
        root, token = prepare_workspace(options.workspace, options.customers)
        result.workspace = root
        s["detail"] = f"{options.customers} customers, 12 months of transactions -> {root / 'data'}"

    ws = Workspace.open(root)
    server: _ApiServer | None = None
    receiver: WebhookReceiver | None = None
    try:
        with step("features: feast apply + materialize") as s:
            applied = ws.features.apply()
            mat = ws.features.materialize()
            s["detail"] = (
                f"{len(applied.feature_views)} feature views, service {FEATURE_SERVICE} "
                f"({len(ws.features.feature_refs(FEATURE_SERVICE))} features) -> SQLite online store"
            )

        with step("discover: catalog + copilot (cited answer)") as s:
            from shipyard.copilot.service import copilot_for
            from shipyard.examples.churn import locate_examples_dir

            registered = ws.catalog.register_file(locate_examples_dir() / "churn" / "catalog.jsonl")
            ws.catalog.sync(["feast"])
            copilot = copilot_for(ws)
            copilot.index()
            answer = copilot.ask(DEMO_QUESTION)
            top = answer.citations[0] if answer.citations else None
            cited = (
                f"{top.kind} {top.name}" + (f" ({top.column})" if top and top.column else "")
                if top
                else "nothing"
            )
            s["detail"] = (
                f"{registered.created + registered.updated} assets registered; asked {DEMO_QUESTION!r} -> {cited}"
            )

        with step("pipeline: promote notebook -> Dagster, run") as s:
            promoted = ws.pipelines.promote(root / "notebooks" / "train.ipynb", PIPELINE_NAME)
            run = ws.pipelines.run(PIPELINE_NAME)
            if run.status != "succeeded":
                failed = [f"{x.name}: {x.error}" for x in run.steps if x.status != "succeeded"]
                raise OperationFailed(f"pipeline run {run.run_id} failed: {'; '.join(failed)}")
            s["detail"] = " -> ".join(f"{x.name} {x.duration_s:.1f}s" for x in run.steps)

        with step("tracking: MLflow run + registry alias") as s:
            champion = ws.registry.resolve(MODEL_NAME, "champion")
            s["detail"] = (
                f"{MODEL_NAME} v{champion.version} @champion, run {champion.run_id}, "
                f"metrics {champion.metrics}"
            )

        with step("deploy: ONNX + parity + Triton") as s:
            deployment = ws.deployments.deploy(MODEL_NAME, "champion", MODEL_NAME)
            s["detail"] = (
                f"parity max abs diff {deployment.parity_max_abs_diff:.2e}, "
                f"Triton at {ws.deployments.triton_url}"
            )

        from shipyard.server.app import create_app

        server = _ApiServer(create_app(ws, close_on_shutdown=False))
        server.start()
        customer_ids = _customer_ids(root, options)

        with step("serve: predictions through REST (normal traffic)") as s:
            t_normal = datetime.now(UTC)
            latencies = _send_traffic(
                server.url, token, customer_ids[: options.requests * options.batch], options
            )
            ws.monitor.flush()
            s["detail"] = _latency_detail(latencies)

        feature_cols = champion.feature_columns
        reference = ws.registry.load_reference(champion)[feature_cols]
        reports_dir = ws.state_dir / "reports"
        reports_dir.mkdir(parents=True, exist_ok=True)

        with step("monitor: drift on normal traffic") as s:
            normal = ws.monitor.read_predictions(MODEL_NAME, since=t_normal)
            normal_report = ws.monitor.drift(reference, normal[feature_cols])
            (reports_dir / "drift-normal.json").write_text(_dumps(normal_report.to_dict()))
            s["detail"] = _drift_detail(normal_report.to_dict())

        shift_feature = options.shift_feature or _pick_shift_feature(champion.feature_refs)
        with step(f"shift: upstream change multiplies {shift_feature} by {options.shift_factor}") as s:
            shifted_ids = customer_ids[
                options.requests * options.batch : 2 * options.requests * options.batch
            ]
            written = _shift_online_values(
                ws, champion.feature_refs, shift_feature, shifted_ids, options.shift_factor
            )
            t_shift = datetime.now(UTC)
            latencies = _send_traffic(server.url, token, shifted_ids, options)
            ws.monitor.flush()
            s["detail"] = f"{written} online rows rewritten; " + _latency_detail(latencies)

        with step("monitor: drift on shifted traffic") as s:
            shifted = ws.monitor.read_predictions(MODEL_NAME, since=t_shift)
            shifted_report = ws.monitor.drift(reference, shifted[feature_cols])
            (reports_dir / "drift-shifted.json").write_text(_dumps(shifted_report.to_dict()))
            s["detail"] = _drift_detail(shifted_report.to_dict())

        with step("loop: alert -> webhook -> retrain -> gate") as s:
            receiver = WebhookReceiver()
            receiver.start()
            # Four windows per traffic phase, so a k=2-of-3 sustained breach can fire within the shifted phase.
            window_rows = max(30, options.requests * options.batch // 4)
            loop = run_monitor_loop(
                ws, MODEL_NAME, root / "notebooks" / "retrain.ipynb", window_rows, receiver
            )
            s["detail"] = loop_detail(loop)

        ws.catalog.sync()  # models, runs, pipelines and deployments become searchable in the copilot and panels
        result.summary = {
            "workspace": str(root),
            "copilot": {"question": DEMO_QUESTION, "answer": answer.to_dict()},
            "lab": f"shipyard lab --workspace {root}",
            "mlflow": {
                "tracking_uri": ws.registry.tracking_uri,
                "run_id": champion.run_id,
                "model": f"{MODEL_NAME} v{champion.version} @champion",
            },
            "dagster_definitions": str(Path(promoted.path) / "definitions.py"),
            "pipeline_run": {
                "run_id": run.run_id,
                "output_notebooks": [x.output_notebook for x in run.steps],
            },
            "endpoint": f"POST {server.url}/deployments/{MODEL_NAME}/predict",
            "triton": ws.deployments.triton_url,
            "prediction_log": str(ws.path(ws.config.monitor.log_dir) / MODEL_NAME),
            "drift_reports": [
                str(reports_dir / "drift-normal.json"),
                str(reports_dir / "drift-shifted.json"),
            ],
            "normal_drifted_features": _drifted(normal_report.to_dict()),
            "shifted_drifted_features": _drifted(shifted_report.to_dict()),
            "shifted_feature": shift_feature,
            "monitor_loop": loop.to_dict(),
            "materialized": mat.feature_views,
        }
        return result
    finally:
        if receiver is not None:
            receiver.stop()
        if server is not None:
            server.stop()
        ws.close()


def _customer_ids(root: Path, options: DemoOptions) -> list[int]:
    import numpy as np
    import pandas as pd

    ids = pd.read_parquet(root / "data" / "customers.parquet", columns=["customer_id"])[
        "customer_id"
    ].to_numpy()
    needed = 2 * options.requests * options.batch
    rng = np.random.default_rng(11)
    return [int(x) for x in rng.choice(ids, size=min(needed, len(ids)), replace=False)]


def _send_traffic(url: str, token: str, ids: list[int], options: DemoOptions) -> list[float]:
    import httpx

    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as client:
        for start in range(0, len(ids), options.batch):
            body = {"entities": [{"customer_id": i} for i in ids[start : start + options.batch]]}
            t0 = time.perf_counter()
            response = client.post(f"/deployments/{MODEL_NAME}/predict", json=body)
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise OperationFailed(f"predict returned {response.status_code}: {response.text[:300]}")
    return latencies


def _pick_shift_feature(feature_refs: list[str]) -> str:
    """The last feature of the feature service: a stable, documented choice."""
    return feature_refs[-1].split(":", 1)[1]


def _shift_online_values(
    ws: Any, feature_refs: list[str], feature: str, ids: list[int], factor: float
) -> int:
    """Simulate an upstream bug: rewrite one feature's online values for some customers."""
    view = next(ref.split(":", 1)[0] for ref in feature_refs if ref.split(":", 1)[1] == feature)
    view_refs = [ref for ref in feature_refs if ref.startswith(f"{view}:")]
    current = ws.features.online_features([{"customer_id": i} for i in ids], view_refs)
    current[feature] = current[feature] * factor
    current["event_timestamp"] = datetime.now(UTC)
    return int(ws.features.write_online(view, current))


def _drifted(report: dict[str, Any]) -> list[str]:
    return [col for col, f in report["features"].items() if f["drifted"]]


def _drift_detail(report: dict[str, Any]) -> str:
    drifted = _drifted(report)
    return f"drift detected on {', '.join(drifted)}" if drifted else "no drift on any feature"


def _latency_detail(latencies_ms: list[float]) -> str:
    import numpy as np

    arr = np.asarray(latencies_ms)
    return (
        f"{len(arr)} requests, p50 {np.percentile(arr, 50):.1f} ms, "
        f"p95 {np.percentile(arr, 95):.1f} ms per request"
    )


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, default=str)
