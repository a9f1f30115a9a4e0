"""The Triton a deployment service talks to: start it, restart it when it dies, know what it has loaded.

Deploys and cold starts wait for Triton. Predictions never wait for a restart: when the server died under
traffic they fail fast with ``EngineUnavailable`` (HTTP 503 + Retry-After) while a background thread brings
it back, and the next request after that loads its model again.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import EngineUnavailable, OperationFailed, ShipyardError

if TYPE_CHECKING:
    from shipyard.config import ServingSettings
    from shipyard.gpu_runtime.triton_client import TritonClient
    from shipyard.gpu_runtime.triton_server import TritonServer

DEFAULT_RETRY_AFTER_S = 5
_MAX_RETRY_AFTER_S = 60
# How long retiring a model waits for requests already on it; past that it is unloaded anyway.
DRAIN_TIMEOUT_S = 30.0


class ModelRetired(OperationFailed):
    """A request reached a model a deploy or rollback has retired: answer from the current version."""


class TritonSupervisor:
    """Owns the local ``TritonServer`` (or the client of an external one) for one workspace."""

    def __init__(self, cfg: ServingSettings, repository: Path, work_dir: Path) -> None:
        self.cfg = cfg
        self.repository = repository
        self.work_dir = work_dir
        self._server: TritonServer | None = None
        self._client: TritonClient | None = None
        self.loaded: set[str] = set()
        # Retired models take no new requests and are never loaded again implicitly: a request that looked
        # its deployment up just before a swap must not race the unload (or reload deleted files).
        self.retired: set[str] = set()
        self._inflight: Counter[str] = Counter()
        self._drained = threading.Condition()
        self._lock = threading.RLock()
        self._load_lock = threading.Lock()
        self._restart: threading.Thread | None = None
        self.last_restart_error: ShipyardError | None = None

    @property
    def protocol(self) -> str:
        """``http`` or ``grpc``: how predictions reach Triton (``serving.protocol``)."""
        return self.cfg.protocol

    @property
    def url(self) -> str | None:
        """``host:port`` of the Triton HTTP endpoint in use (None until a local one has started)."""
        if self.cfg.triton_url:
            return self.cfg.triton_url
        server = self._server
        return server.url if server is not None and server.is_alive() else None

    @property
    def server(self) -> TritonServer | None:
        """The local Triton this supervisor started, if any."""
        return self._server

    def restarting(self) -> bool:
        """Whether a background restart is under way."""
        thread = self._restart
        return thread is not None and thread.is_alive()

    def client(self, *, fail_fast: bool = False) -> TritonClient:
        """A client of a ready Triton, starting one if needed; ``fail_fast`` refuses to wait for a restart."""
        if fail_fast:
            self._fail_if_restarting()
        with self._lock:
            if self._client is not None and (self._server is None or self._server.is_alive()):
                return self._client
            if self._client is not None:
                self._client.close()
            if self._server is not None:
                # It died under us: collect what is left of it before starting a fresh one.
                self._server.stop()
            self.loaded = set()
            self._client = self._connect()
            return self._client

    def ensure_loaded(self, triton_model: str, *, fail_fast: bool = False) -> TritonClient:
        """A client on which ``triton_model`` is loaded (loading it once after each server start)."""
        client = self.client(fail_fast=fail_fast)
        if triton_model not in self.loaded:
            # After a restart every request thread finds its model unloaded: one of them loads it.
            with self._load_lock:
                if triton_model not in self.loaded:
                    if not client.is_model_ready(triton_model):
                        client.load_model(triton_model)
                    self.loaded.add(triton_model)
        return client

    @contextmanager
    def serving(self, triton_model: str, *, fail_fast: bool = False) -> Iterator[TritonClient]:
        """A client with ``triton_model`` loaded, counted in flight until the block ends.

        Raises ``ModelRetired`` once the model is retired, so the caller retries on the current version.
        """
        with self._drained:
            if triton_model in self.retired:
                raise ModelRetired(f"Triton model {triton_model!r} was retired by a deploy or rollback")
            self._inflight[triton_model] += 1
        try:
            yield self.ensure_loaded(triton_model, fail_fast=fail_fast)
        finally:
            with self._drained:
                self._inflight[triton_model] -= 1
                if self._inflight[triton_model] <= 0:
                    del self._inflight[triton_model]
                    self._drained.notify_all()

    def published(self, triton_model: str) -> None:
        """Record that ``triton_model`` was (re)written and loaded: it serves again, even if once retired."""
        with self._drained:
            self.retired.discard(triton_model)
        self.loaded.add(triton_model)

    def unretire(self, triton_model: str) -> None:
        """Let ``triton_model`` serve again (loaded on the next request): another process recorded it as current."""
        with self._drained:
            self.retired.discard(triton_model)

    def retire(self, triton_model: str, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> bool:
        """Stop new requests to ``triton_model``, wait for those on it, then unload it.

        Returns whether every request in flight finished within ``drain_timeout_s``.
        """
        with self._drained:
            self.retired.add(triton_model)
            drained = self._drained.wait_for(lambda: not self._inflight[triton_model], drain_timeout_s)
        self.unload(triton_model)
        return drained

    def unload(self, triton_model: str) -> None:
        """Unload ``triton_model`` if this supervisor loaded it; a server that is gone is fine."""
        if self._client is not None and triton_model in self.loaded:
            self.loaded.discard(triton_model)
            try:
                self._client.unload_model(triton_model)
            except (OperationFailed, EngineUnavailable):
                # Its directory goes next regardless; Triton drops a model whose files vanished.
                pass

    def has_onnxruntime(self) -> bool:
        """Whether the Triton in use has the ONNX Runtime backend."""
        if self.cfg.triton_url:
            # An external Triton is a full NVIDIA build: it has the ONNX Runtime (and TensorRT) backends.
            return True
        from shipyard.gpu_runtime.triton_dist import locate_triton

        return locate_triton(self.work_dir).has_backend("onnxruntime")

    def log_hint(self) -> str:
        """Where the server log is, for error messages."""
        return str(self._server.log_path) if self._server is not None else "the Triton server log"

    def retry_after_s(self) -> int:
        """How long a client should wait before retrying: about one server start."""
        started = self._server.startup_s if self._server is not None else None
        if not started:
            return DEFAULT_RETRY_AFTER_S
        return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(started)))

    def close(self) -> None:
        """Stop the Triton this supervisor started (after any restart in flight) and close connections."""
        thread = self._restart
        if thread is not None:
            thread.join(timeout=self.cfg.startup_timeout_s + 15)
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._server is not None:
                self._server.stop()
                self._server = None
            self.loaded = set()

    # -- internals ------------------------------------------------------------------------------------
    def _connect(self) -> TritonClient:
        from shipyard.gpu_runtime.triton_server import TritonServer

        if self.cfg.triton_url:
            client = self._new_client(self.cfg.triton_url, self.cfg.triton_grpc_url)
            if not client.is_ready():
                raise EngineUnavailable(
                    f"Triton at serving.triton_url={self.cfg.triton_url} is not ready; start it or clear "
                    "serving.triton_url to let Shipyard run one",
                    detail={"retry_after_s": DEFAULT_RETRY_AFTER_S},
                )
            return client
        self._server = TritonServer(
            self.repository,
            self.work_dir,
            http_port=self.cfg.http_port,
            grpc_port=self.cfg.grpc_port,
            metrics_port=self.cfg.metrics_port,
            startup_timeout_s=self.cfg.startup_timeout_s,
        )
        self._server.start()
        return self._new_client(self._server.url, self._server.grpc_url)

    def _new_client(self, http_url: str, grpc_url: str) -> TritonClient:
        from shipyard.gpu_runtime.triton_client import TritonClient

        if self.protocol == "grpc":
            from shipyard.gpu_runtime.triton_grpc_client import TritonGrpcClient

            if not grpc_url:
                raise EngineUnavailable(
                    "serving.protocol = 'grpc' with an external Triton needs serving.triton_grpc_url "
                    "(host:port of its gRPC endpoint); set it or use serving.protocol = 'http'"
                )
            return TritonGrpcClient(grpc_url)
        return TritonClient(http_url)

    def _fail_if_restarting(self) -> None:
        if self.restarting():
            raise self._unavailable("is restarting")
        server = self._server
        if self.cfg.triton_url or server is None or server.is_alive():
            return
        with self._lock:
            if not self.restarting() and self._server is server:
                self._restart = threading.Thread(
                    target=self._restart_in_background, name="shipyard-triton-restart", daemon=True
                )
                self._restart.start()
        raise self._unavailable("stopped unexpectedly and is being restarted")

    def _restart_in_background(self) -> None:
        try:
            self.client()
            self.last_restart_error = None
        except ShipyardError as exc:
            # The next request sees a dead server again and starts another attempt; keep why for the log.
            self.last_restart_error = exc

    def _unavailable(self, what: str) -> EngineUnavailable:
        retry = self.retry_after_s()
        return EngineUnavailable(
            f"Triton {what}; retry in {retry}s (server log: {self.log_hint()})",
            detail={"retry_after_s": retry},
        )
