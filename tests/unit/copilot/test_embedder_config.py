"""Which models the ONNX backend accepts, and clear errors for unusable backends or models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.copilot.embedder import get_embedder
from shipyard.copilot.onnx_embedder import cache_root, exportable
from shipyard.errors import EngineUnavailable

MEAN = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
DENSE = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}


def model_folder(
    root: Path, modules: list[dict[str, object]] | None, pooling: object, tokenizer: bool
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if modules is not None:
        (root / "modules.json").write_text(json.dumps(modules))
    if pooling is not None:
        (root / "1_Pooling").mkdir()
        (root / "1_Pooling" / "config.json").write_text(
            pooling if isinstance(pooling, str) else json.dumps(pooling)
        )
    if tokenizer:
        (root / "tokenizer.json").write_text("{}")
    return root


@pytest.mark.parametrize(
    ("modules", "pooling", "tokenizer", "ok"),
    [
        ([TRANSFORMER, POOLING, NORMALIZE], MEAN, True, True),
        ([TRANSFORMER, POOLING], MEAN, True, True),
        ([TRANSFORMER, POOLING, NORMALIZE], MEAN, False, False),  # no fast tokenizer
        ([TRANSFORMER, POOLING, NORMALIZE], {"pooling_mode_cls_token": True}, True, False),  # CLS pooling
        ([TRANSFORMER, POOLING, NORMALIZE], {**MEAN, "pooling_mode_max_tokens": True}, True, False),
        ([TRANSFORMER, POOLING, DENSE], MEAN, True, False),  # an extra projection layer
        (None, MEAN, True, False),  # not a sentence-transformers folder
        ([TRANSFORMER, POOLING], "{not json", True, False),
        ([TRANSFORMER, POOLING], None, True, False),
    ],
)
def test_only_plain_mean_pooling_models_are_exported(
    tmp_path: Path, modules: list[dict[str, object]] | None, pooling: object, tokenizer: bool, ok: bool
) -> None:
    assert exportable(model_folder(tmp_path / "m", modules, pooling, tokenizer)) is ok


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(EngineUnavailable, match="embedding_backend is one of auto, onnx, onnx-int8, torch"):
        get_embedder("all-MiniLM-L6-v2", "tensorrt")


def test_onnx_backend_on_a_model_it_cannot_run_names_the_fix(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "cls", [TRANSFORMER, POOLING], {"pooling_mode_cls_token": True}, True)
    with pytest.raises(EngineUnavailable, match='embedding_backend = "torch"'):
        get_embedder(str(folder), "onnx")


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c" / "onnx"
    monkeypatch.delenv("SHIPYARD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "shipyard" / "onnx"
