"""Triton model repository: generated configs per backend, and atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.errors import InvalidInput
from shipyard.gpu_runtime import triton_repository as repo_mod
from shipyard.gpu_runtime.onnx_export import OnnxModel, export_classifier
from shipyard.gpu_runtime.triton_repository import (
    ServingOptions,
    remove_leftovers,
    remove_model,
    render_config,
    validate_triton_name,
    write_model,
)

from .conftest import FEATURES


@pytest.fixture(scope="module")
def exported(classifier: LogisticRegression) -> OnnxModel:
    return export_classifier(classifier, len(FEATURES))


def test_python_backend_config_runs_model_py_on_cpu(exported: OnnxModel) -> None:
    text = render_config("churn-v1", exported, ServingOptions(backend="python", gpus=2))
    assert 'name: "churn-v1"' in text
    assert 'backend: "python"' in text
    assert "platform" not in text
    # Dynamic batching by default: dims leave out the batch dimension; model.py returns the label as [rows, 1].
    assert "max_batch_size: 64" in text
    assert "dynamic_batching { max_queue_delay_microseconds: 100 }" in text
    assert '{ name: "input" data_type: TYPE_FP32 dims: [ 4 ] }' in text
    assert '{ name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] }' in text
    assert '{ name: "label" data_type: TYPE_INT64 dims: [ 1 ] }' in text
    # ONNX Runtime inside model.py is the CPU build: GPUs on the host do not change the instance kind.
    assert "KIND_CPU" in text and "KIND_GPU" not in text
    assert "tensorrt" not in text
    assert 'key: "onnx_file" value: { string_value: "model.onnx" }' in text


def test_onnxruntime_backend_on_cpu(exported: OnnxModel) -> None:
    text = render_config("m", exported, ServingOptions(backend="onnxruntime", gpus=0))
    assert 'platform: "onnxruntime_onnx"' in text
    assert 'default_model_filename: "model.onnx"' in text
    assert "backend:" not in text
    assert "KIND_CPU" in text
    assert "tensorrt" not in text


def test_onnxruntime_backend_batches_and_reshapes_the_label(exported: OnnxModel) -> None:
    options = ServingOptions(backend="onnxruntime", max_batch_size=16, max_queue_delay_us=250)
    text = render_config("m", exported, options)
    assert "max_batch_size: 16" in text
    assert "dynamic_batching { max_queue_delay_microseconds: 250 }" in text
    assert '{ name: "input" data_type: TYPE_FP32 dims: [ 4 ] }' in text
    assert '{ name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] }' in text
    # ONNX Runtime produces the label as [rows]: declared [1] per row, reshaped to a scalar for the model.
    assert '{ name: "label" data_type: TYPE_INT64 dims: [ 1 ] reshape: { shape: [ ] } }' in text


@pytest.mark.parametrize("backend", ["python", "onnxruntime"])
def test_max_batch_size_zero_keeps_the_batch_dimension_in_dims(exported: OnnxModel, backend: str) -> None:
    text = render_config("m", exported, ServingOptions(backend=backend, max_batch_size=0))  # type: ignore[arg-type]
    assert "max_batch_size: 0" in text
    assert "dynamic_batching" not in text and "reshape" not in text
    assert '{ name: "input" data_type: TYPE_FP32 dims: [ -1, 4 ] }' in text
    assert '{ name: "label" data_type: TYPE_INT64 dims: [ -1 ] }' in text


def test_onnxruntime_backend_on_gpus_uses_tensorrt(exported: OnnxModel) -> None:
    text = render_config(
        "m", exported, ServingOptions(backend="onnxruntime", gpus=1, tensorrt_precision="FP16")
    )
    assert "instance_group [ { kind: KIND_GPU count: 1 } ]" in text
    assert "gpu_execution_accelerator" in text
    assert 'name : "tensorrt"' in text
    assert 'parameters { key: "precision_mode" value: "FP16" }' in text


def test_onnxruntime_backend_on_gpus_without_tensorrt(exported: OnnxModel) -> None:
    text = render_config("m", exported, ServingOptions(backend="onnxruntime", gpus=1, tensorrt=False))
    assert "KIND_GPU" in text
    assert "tensorrt" not in text


@pytest.mark.parametrize("name", ["", ".hidden", "-x", "a/b", "a b", "../up", "x" * 201, "churn\n"])
def test_bad_triton_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="Triton model name"):
        validate_triton_name(name)


def test_write_model_lays_out_the_repository(tmp_path: Path, exported: OnnxModel) -> None:
    final = write_model(tmp_path, "churn-v1", exported, ServingOptions())
    assert final == tmp_path / "churn-v1"
    assert (final / "1" / "model.onnx").read_bytes() == exported.onnx
    assert (final / "1" / "model.py").read_text() == repo_mod._PYTHON_MODEL_SOURCE.read_text()
    assert 'backend: "python"' in (final / "config.pbtxt").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["churn-v1"]


def test_onnxruntime_layout_has_no_model_py(tmp_path: Path, exported: OnnxModel) -> None:
    final = write_model(tmp_path, "m", exported, ServingOptions(backend="onnxruntime"))
    assert sorted(p.name for p in (final / "1").iterdir()) == ["model.onnx"]


def test_rewrite_replaces_the_model_and_leaves_no_temp_dirs(tmp_path: Path, exported: OnnxModel) -> None:
    write_model(tmp_path, "m", exported, ServingOptions(backend="python"))
    write_model(tmp_path, "m", exported, ServingOptions(backend="onnxruntime"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert "onnxruntime_onnx" in (tmp_path / "m" / "config.pbtxt").read_text()


def test_failed_write_keeps_the_old_model(
    tmp_path: Path, exported: OnnxModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_model(tmp_path, "m", exported, ServingOptions())
    before = (tmp_path / "m" / "config.pbtxt").read_text()

    def boom(*args: object, **kwargs: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(repo_mod, "render_config", boom)
    with pytest.raises(OSError, match="disk full"):
        write_model(tmp_path, "m", exported, ServingOptions(backend="onnxruntime"))
    assert (tmp_path / "m" / "config.pbtxt").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_remove_model(tmp_path: Path, exported: OnnxModel) -> None:
    write_model(tmp_path, "m", exported, ServingOptions())
    remove_model(tmp_path, "m")
    remove_model(tmp_path, "m")
    assert list(tmp_path.iterdir()) == []


def test_remove_leftovers_takes_only_that_models_staging_copies(tmp_path: Path) -> None:
    for name in [".m.tmp-1a2b", ".m.old-3c4d/1", ".mm.tmp-5e6f", "m/1", ".other.tmp-0000"]:
        (tmp_path / name).mkdir(parents=True)
    removed = remove_leftovers(tmp_path, "m")
    assert sorted(p.name for p in removed) == [".m.old-3c4d", ".m.tmp-1a2b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".mm.tmp-5e6f", ".other.tmp-0000", "m"]
    assert remove_leftovers(tmp_path / "absent", "m") == []
