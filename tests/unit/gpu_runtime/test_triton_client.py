"""TritonClient errors when there is no server to talk to."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.errors import EngineUnavailable, InvalidInput
from shipyard.gpu_runtime.triton_client import TritonClient
from shipyard.gpu_runtime.triton_server import free_ports


@pytest.fixture()
def client() -> TritonClient:
    c = TritonClient(f"http://127.0.0.1:{free_ports(1)[0]}/", timeout_s=2)
    yield c  # type: ignore[misc]
    c.close()


def test_url_is_normalised(client: TritonClient) -> None:
    assert client.url.startswith("127.0.0.1:") and not client.url.endswith("/")


def test_nothing_listening_is_not_ready(client: TritonClient) -> None:
    assert client.is_ready() is False
    assert client.is_model_ready("m") is False


def test_nothing_listening_is_engine_unavailable(client: TritonClient) -> None:
    with pytest.raises(EngineUnavailable, match="unreachable"):
        client.load_model("m")


@pytest.mark.parametrize("shape", [(0, 3), (3,), (1, 2, 3)])
def test_bad_input_shapes(client: TritonClient, shape: tuple[int, ...]) -> None:
    with pytest.raises(InvalidInput, match="rows, features"):
        client.infer("m", np.zeros(shape), input_name="input", outputs=["probabilities"])


def test_close_twice(client: TritonClient) -> None:
    client.is_ready()
    client.close()
    client.close()
