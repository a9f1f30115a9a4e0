"""Talk to Triton over gRPC (tritonclient.grpc): the same calls as ``TritonClient``, on a persistent channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.errors import EngineUnavailable, OperationFailed
from shipyard.gpu_runtime.triton_client import TritonClient

if TYPE_CHECKING:
    import numpy as np

# gRPC status codes that mean "the server is not there", as opposed to "the server refused the request".
_UNREACHABLE = ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED", "StatusCode.CANCELLED")


class TritonGrpcClient(TritonClient):
    """``TritonClient`` over ``tritonclient.grpc`` for one server (``host:port`` of its gRPC endpoint)."""

    def __init__(self, url: str, *, timeout_s: float = 60.0) -> None:
        super().__init__(url, timeout_s=timeout_s)
        self.url = url.removeprefix("grpc://").rstrip("/")
        self._shared: Any = None

    def _client(self) -> Any:
        # Unlike the gevent-based HTTP client, a gRPC channel is safe to share between threads.
        with self._lock:
            if self._shared is None:
                import tritonclient.grpc as grpcclient

                self._shared = grpcclient.InferenceServerClient(self.url)
                self._clients.append(self._shared)
            return self._shared

    def _model_config(self, client: Any, model: str) -> dict[str, Any]:
        return dict(client.get_model_config(model, as_json=True).get("config", {}))

    def _infer_once(
        self, model: str, batch: np.ndarray, input_name: str, outputs: list[str]
    ) -> dict[str, np.ndarray]:
        import tritonclient.grpc as grpcclient

        tensor = grpcclient.InferInput(input_name, list(batch.shape), "FP32")
        tensor.set_data_from_numpy(batch)
        requested = [grpcclient.InferRequestedOutput(name) for name in outputs]
        result = self._call(
            "infer",
            model,
            lambda c: c.infer(model, [tensor], outputs=requested, client_timeout=self.timeout_s),
        )
        return {name: result.as_numpy(name) for name in outputs}

    def _call(self, action: str, model: str, fn: Any) -> Any:
        from tritonclient.utils import InferenceServerException

        try:
            return fn(self._client())
        except InferenceServerException as exc:
            message = exc.message() if callable(getattr(exc, "message", None)) else str(exc)
            if str(exc.status()) in _UNREACHABLE:
                raise EngineUnavailable(
                    f"Triton gRPC at {self.url} is unreachable ({message}); check that it runs",
                    detail={"retry_after_s": 5},
                ) from exc
            raise OperationFailed(
                f"Triton at {self.url} could not {action} model {model!r}: {message}",
                detail={"status": exc.status()},
            ) from exc

    def close(self) -> None:
        """Close the channel."""
        with self._lock:
            self._shared = None
        super().close()
