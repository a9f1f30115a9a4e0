"""Talk to Triton over HTTP (tritonclient.http): readiness, repository load/unload, inference."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shipyard.errors import EngineUnavailable, InvalidInput, OperationFailed

if TYPE_CHECKING:
    import numpy as np


class TritonClient:
    """A thread-safe facade over ``tritonclient.http`` for one server URL (``host:port``)."""

    def __init__(self, url: str, *, timeout_s: float = 60.0) -> None:
        self.url = url.removeprefix("http://").rstrip("/")
        self.timeout_s = timeout_s
        # tritonclient.http sits on gevent: a client must stay on the OS thread that created it.
        self._local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        # Triton refuses a request larger than a batching model's max_batch_size: such requests are split.
        self._max_rows: dict[str, int] = {}

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            import tritonclient.http as httpclient

            client = httpclient.InferenceServerClient(
                self.url, connection_timeout=self.timeout_s, network_timeout=self.timeout_s
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def is_ready(self) -> bool:
        """Whether the server answers and reports ready."""
        try:
            return bool(self._client().is_server_ready())
        except Exception:  # noqa: BLE001 - any failure to answer means "not ready"
            return False

    def is_model_ready(self, name: str) -> bool:
        """Whether model ``name`` is loaded and ready."""
        try:
            return bool(self._client().is_model_ready(name))
        except Exception:  # noqa: BLE001 - any failure to answer means "not ready"
            return False

    def load_model(self, name: str) -> None:
        """Load (or reload) ``name`` from the server's model repository."""
        self._max_rows.pop(name, None)
        self._call("load", name, lambda c: c.load_model(name))

    def unload_model(self, name: str) -> None:
        """Unload ``name``; unloading a model that is not loaded is fine."""
        self._max_rows.pop(name, None)
        self._call("unload", name, lambda c: c.unload_model(name))

    def infer(
        self, model: str, features: np.ndarray, *, input_name: str, outputs: list[str]
    ) -> dict[str, np.ndarray]:
        """Run ``model`` on a float32 [rows, features] array; returns the named outputs, one row per row."""
        import numpy as np

        batch = np.ascontiguousarray(features, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[0] == 0:
            raise InvalidInput(
                f"inference input must be a non-empty [rows, features] array, got shape {batch.shape}"
            )
        limit = self.max_batch_size(model)
        if not limit or len(batch) <= limit:
            return self._infer_once(model, batch, input_name, outputs)
        parts = [
            self._infer_once(model, batch[start : start + limit], input_name, outputs)
            for start in range(0, len(batch), limit)
        ]
        return {name: np.concatenate([part[name] for part in parts]) for name in outputs}

    def max_batch_size(self, model: str) -> int:
        """The model's ``max_batch_size`` (0: no dynamic batching), read once per load."""
        found = self._max_rows.get(model)
        if found is None:
            config = self._call("read the config of", model, lambda c: self._model_config(c, model))
            found = self._max_rows[model] = int(config.get("max_batch_size", 0))
        return found

    def _model_config(self, client: Any, model: str) -> dict[str, Any]:
        return dict(client.get_model_config(model))

    def _infer_once(
        self, model: str, batch: np.ndarray, input_name: str, outputs: list[str]
    ) -> dict[str, np.ndarray]:
        import tritonclient.http as httpclient

        tensor = httpclient.InferInput(input_name, list(batch.shape), "FP32")
        tensor.set_data_from_numpy(batch, binary_data=True)
        requested = [httpclient.InferRequestedOutput(name, binary_data=True) for name in outputs]
        result = self._call("infer", model, lambda c: c.infer(model, [tensor], outputs=requested))
        return {name: result.as_numpy(name) for name in outputs}

    def _call(self, action: str, model: str, fn: Any) -> Any:
        from tritonclient.utils import InferenceServerException

        try:
            return fn(self._client())
        except InferenceServerException as exc:
            message = exc.message() if callable(getattr(exc, "message", None)) else str(exc)
            raise OperationFailed(
                f"Triton at {self.url} could not {action} model {model!r}: {message}",
                detail={"status": exc.status()},
            ) from exc
        except (OSError, ConnectionError) as exc:
            raise EngineUnavailable(
                f"Triton at {self.url} is unreachable ({exc}); check that it runs, or serving.triton_url"
            ) from exc

    def close(self) -> None:
        """Close every connection this client opened."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._local = threading.local()
