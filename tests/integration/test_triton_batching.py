"""Dynamic batching on a real Triton: concurrent requests run together and answer exactly like unbatched ones."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.gpu_runtime.onnx_export import OnnxModel, export_classifier
from shipyard.gpu_runtime.parity import onnx_probabilities, onnx_session
from shipyard.gpu_runtime.triton_client import TritonClient
from shipyard.gpu_runtime.triton_grpc_client import TritonGrpcClient
from shipyard.gpu_runtime.triton_repository import ServingOptions, write_model
from shipyard.gpu_runtime.triton_server import TritonServer

pytestmark = pytest.mark.integration

FEATURES = ["monthly_charge", "txn_count_30d", "refunds_30d"]
OUTPUTS = ["probabilities", "label"]
MAX_BATCH = 8
# Long enough that requests sent together on a loaded machine still meet in Triton's queue.
QUEUE_DELAY_US = 200_000


@pytest.fixture(scope="module")
def frame(synthetic_churn_frame: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return synthetic_churn_frame(400)


@pytest.fixture(scope="module")
def exported(frame: pd.DataFrame) -> OnnxModel:
    model = LogisticRegression(max_iter=500).fit(frame[FEATURES], frame["churned"])
    return export_classifier(model, len(FEATURES))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, exported: OnnxModel) -> Iterator[TritonServer]:
    root = tmp_path_factory.mktemp("batching")
    batched = ServingOptions(max_batch_size=MAX_BATCH, max_queue_delay_us=QUEUE_DELAY_US)
    write_model(root / "models", "batched", exported, batched)
    write_model(root / "models", "unbatched", exported, ServingOptions(max_batch_size=0))
    triton = TritonServer(root / "models", root / "triton", startup_timeout_s=60)
    triton.start()
    client = TritonClient(triton.url)
    try:
        client.load_model("batched")
        client.load_model("unbatched")
        yield triton
    finally:
        client.close()
        triton.stop()


def _stats(server: TritonServer, model: str) -> dict[str, int]:
    with urllib.request.urlopen(f"http://{server.url}/v2/models/{model}/stats", timeout=10) as answer:
        stats = json.load(answer)["model_stats"][0]
    return {
        "inference_count": int(stats["inference_count"]),
        "execution_count": int(stats["execution_count"]),
    }


def _settled_stats(server: TritonServer, model: str, inferences: int) -> dict[str, int]:
    # Triton may answer a request before it books the request's statistics: wait for the count to arrive.
    deadline = time.monotonic() + 20
    stats = _stats(server, model)
    while stats["inference_count"] < inferences and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = _stats(server, model)
    return stats


def test_concurrent_requests_are_batched_and_equal_the_unbatched_answers(
    server: TritonServer, frame: pd.DataFrame, exported: OnnxModel
) -> None:
    x = frame[FEATURES].to_numpy(np.float32)
    # Requests of 1-3 rows, sent together by as many threads as requests.
    chunks = [x[i : i + 1 + (i // 3) % 3] for i in range(0, 36, 3)]
    client = TritonClient(server.url)
    before = _stats(server, "batched")
    answers: dict[int, dict[str, np.ndarray]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(chunks))

    def call(i: int) -> None:
        try:
            start.wait(timeout=30)
            answers[i] = client.infer("batched", chunks[i], input_name="input", outputs=OUTPUTS)
        except BaseException as exc:  # noqa: BLE001 - re-raised below on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(chunks))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        after = _settled_stats(server, "batched", before["inference_count"] + sum(len(c) for c in chunks))
        for i, rows in enumerate(chunks):
            alone = client.infer("unbatched", rows, input_name="input", outputs=OUTPUTS)
            assert answers[i]["probabilities"].shape == (len(rows), 2)
            assert answers[i]["label"].shape == (len(rows), 1)
            np.testing.assert_array_equal(answers[i]["label"].reshape(-1), alone["label"])
            np.testing.assert_allclose(answers[i]["probabilities"], alone["probabilities"], rtol=0, atol=1e-7)
            local = onnx_probabilities(onnx_session(exported.onnx), exported, rows)
            np.testing.assert_allclose(answers[i]["probabilities"], local, atol=1e-6)
    finally:
        client.close()
    rows_sent = sum(len(c) for c in chunks)
    assert after["inference_count"] - before["inference_count"] == rows_sent
    executions = after["execution_count"] - before["execution_count"]
    # 12 requests of 24 rows with max_batch_size 8 need at least 3 executions; fewer than 12 means batching.
    assert rows_sent / MAX_BATCH <= executions < len(chunks), after


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_request_larger_than_max_batch_size_is_split_and_reassembled(
    server: TritonServer, frame: pd.DataFrame, protocol: str
) -> None:
    x = frame[FEATURES].to_numpy(np.float32)[: 3 * MAX_BATCH + 5]
    client = TritonClient(server.url) if protocol == "http" else TritonGrpcClient(server.grpc_url)
    try:
        assert client.max_batch_size("batched") == MAX_BATCH
        assert client.max_batch_size("unbatched") == 0
        split = client.infer("batched", x, input_name="input", outputs=OUTPUTS)
        whole = client.infer("unbatched", x, input_name="input", outputs=OUTPUTS)
    finally:
        client.close()
    assert split["probabilities"].shape == (len(x), 2)
    np.testing.assert_array_equal(split["label"].reshape(-1), whole["label"])
    np.testing.assert_allclose(split["probabilities"], whole["probabilities"], rtol=0, atol=1e-7)


@pytest.mark.parametrize("features", [2, 4])
def test_wrong_feature_count_is_refused_by_the_batching_model(
    server: TritonServer, frame: pd.DataFrame, features: int
) -> None:
    from shipyard.errors import OperationFailed

    client = TritonClient(server.url)
    try:
        with pytest.raises(OperationFailed, match="could not infer model 'batched'"):
            client.infer("batched", np.zeros((2, features), np.float32), input_name="input", outputs=OUTPUTS)
        ok = client.infer(
            "batched", frame[FEATURES].to_numpy(np.float32)[:2], input_name="input", outputs=OUTPUTS
        )
    finally:
        client.close()
    assert ok["label"].shape == (2, 1)
