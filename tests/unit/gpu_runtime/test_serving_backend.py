"""serving.backend selection and the TensorRT path, on CPU: GPUs are faked (fake_gpu_*), engines are real."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.config import ServingSettings, default_toml
from shipyard.errors import EngineUnavailable, InvalidInput
from shipyard.gpu_runtime.onnx_export import INPUT_NAME, export_classifier
from shipyard.gpu_runtime.serving_backend import choose_serving_options, runtime_name, runtime_of_model
from shipyard.gpu_runtime.tensorrt import (
    TensorRTCapability,
    check_tensorrt_parity,
    detect_tensorrt,
    require_tensorrt,
    tensorrt_session,
)
from shipyard.gpu_runtime.triton_repository import render_config, write_model
from shipyard.workspace import Workspace

from .conftest import FEATURES


def fake_gpu_capability(gpus: int = 1, ort: bool = True, package: bool = False, provider: bool = False):  # noqa: ANN201
    return lambda has_ort: TensorRTCapability(gpus, has_ort and ort, package, provider)


def settings(**kw: object) -> ServingSettings:
    return ServingSettings(**kw)  # type: ignore[arg-type]


def test_fake_gpu_tensorrt_backend_writes_the_accelerator_config(
    tmp_path: Path, classifier: LogisticRegression
) -> None:
    options = choose_serving_options(
        settings(backend="tensorrt", tensorrt_precision="fp16"), lambda: True, fake_gpu_capability(gpus=2)
    )
    assert (options.backend, options.gpus, options.tensorrt, options.tensorrt_precision) == (
        "onnxruntime",
        2,
        True,
        "FP16",
    )
    assert runtime_name(options) == "tensorrt-fp16 (triton onnxruntime backend)"
    exported = export_classifier(classifier, len(FEATURES), input_name=INPUT_NAME)
    model_dir = write_model(tmp_path, "churn-v1", exported, options)
    config = (model_dir / "config.pbtxt").read_text()
    assert 'platform: "onnxruntime_onnx"' in config
    assert "kind: KIND_GPU" in config
    assert 'name : "tensorrt"' in config
    assert 'key: "precision_mode" value: "FP16"' in config
    assert (model_dir / "1" / "model.onnx").read_bytes() == exported.onnx


def test_fake_gpu_auto_adds_tensorrt_fp32_by_default(classifier: LogisticRegression) -> None:
    options = choose_serving_options(settings(), lambda: True, fake_gpu_capability(gpus=1))
    assert (options.backend, options.gpus, options.tensorrt, options.tensorrt_precision) == (
        "onnxruntime",
        1,
        True,
        "FP32",
    )
    exported = export_classifier(classifier, len(FEATURES), input_name=INPUT_NAME)
    assert 'value: "FP32"' in render_config("m", exported, options)


def test_fake_gpu_onnxruntime_backend_has_no_tensorrt_block(classifier: LogisticRegression) -> None:
    options = choose_serving_options(settings(backend="onnxruntime"), lambda: True, fake_gpu_capability())
    exported = export_classifier(classifier, len(FEATURES), input_name=INPUT_NAME)
    config = render_config("m", exported, options)
    assert "KIND_GPU" in config and "tensorrt" not in config
    assert runtime_name(options) == "onnxruntime-gpu"


@pytest.mark.parametrize(
    ("backend", "has_ort", "expected"),
    [("auto", False, "python"), ("auto", True, "onnxruntime"), ("python", True, "python")],
)
def test_cpu_backend_choice(backend: str, has_ort: bool, expected: str) -> None:
    options = choose_serving_options(settings(backend=backend), lambda: has_ort, fake_gpu_capability(gpus=0))
    assert options.backend == expected
    assert options.gpus == 0


@pytest.mark.parametrize(
    ("backend", "has_ort", "gpus", "package", "needle"),
    [
        ("tensorrt", True, 0, False, "no NVIDIA GPU is visible"),
        ("tensorrt", False, 1, False, "no onnxruntime backend"),
        ("tensorrt", False, 1, True, "Triton's onnxruntime backend"),
        ("onnxruntime", False, 0, False, "serving.backend = 'onnxruntime'"),
    ],
)
def test_fake_gpu_missing_capability_is_refused_cleanly(
    backend: str, has_ort: bool, gpus: int, package: bool, needle: str
) -> None:
    with pytest.raises(EngineUnavailable) as exc:
        choose_serving_options(
            settings(backend=backend), lambda: has_ort, fake_gpu_capability(gpus=gpus, package=package)
        )
    assert needle in exc.value.message
    assert "serving." in exc.value.message


@pytest.mark.parametrize("value", ["cuda", "", "TensorRT"])
def test_unknown_backend_set_in_code_names_the_field(value: str) -> None:
    cfg = ServingSettings.model_construct(backend=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="serving.backend"):
        choose_serving_options(cfg, lambda: True, fake_gpu_capability())


def test_capability_check_refuses_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shipyard.gpu_runtime.devices.gpu_count", lambda: 0)
    cap = detect_tensorrt(triton_onnxruntime=True)
    assert not cap.usable and not cap.ort_tensorrt_provider
    with pytest.raises(EngineUnavailable, match="no NVIDIA GPU is visible"):
        require_tensorrt(cap)
    with pytest.raises(EngineUnavailable, match="no NVIDIA GPU"):
        tensorrt_session(b"", "fp32", cap)


def test_fake_gpu_without_ort_tensorrt_provider_refuses_the_session() -> None:
    cap = TensorRTCapability(
        gpus=1, triton_onnxruntime=True, tensorrt_package=False, ort_tensorrt_provider=False
    )
    with pytest.raises(EngineUnavailable, match="TensorrtExecutionProvider"):
        tensorrt_session(b"", "fp16", cap)


def test_fake_gpu_tensorrt_parity_uses_the_same_tolerance(
    monkeypatch: pytest.MonkeyPatch, classifier: LogisticRegression, frame: pd.DataFrame
) -> None:
    from shipyard.errors import OperationFailed
    from shipyard.gpu_runtime import parity, tensorrt

    exported = export_classifier(classifier, len(FEATURES), input_name=INPUT_NAME)
    # The TensorRT session is faked by the CPU one: this checks the comparison, not TensorRT itself.
    monkeypatch.setattr(tensorrt, "tensorrt_session", lambda onnx, precision, cap: parity.onnx_session(onnx))
    cap = TensorRTCapability(1, True, False, True)
    report = check_tensorrt_parity(
        classifier, exported, frame, FEATURES, precision="fp32", cap=cap, rows=100, tolerance=1e-4
    )
    assert report.passed and report.rows == 100
    with pytest.raises(OperationFailed, match="serving.parity_tolerance"):
        check_tensorrt_parity(
            classifier, exported, frame, FEATURES, precision="fp32", cap=cap, rows=100, tolerance=1e-30
        )


def test_deploy_with_tensorrt_refuses_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shipyard.toml").write_text(default_toml("unit"))
    monkeypatch.setenv("SHIPYARD_SERVING__BACKEND", "tensorrt")
    monkeypatch.setattr("shipyard.gpu_runtime.devices.gpu_count", lambda: 0)
    ws = Workspace.open(tmp_path)
    try:
        assert ws.config.serving.backend == "tensorrt"
        with pytest.raises(EngineUnavailable, match="no NVIDIA GPU"):
            ws.deployments._serving_options()
        assert not (tmp_path / ws.config.serving.model_repository).exists()
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("backend", "gpus", "precision", "expected"),
    [
        ("python", 0, "fp32", "onnxruntime-cpu (triton python backend)"),
        ("auto", 0, "fp32", "onnxruntime-cpu"),
        ("onnxruntime", 1, "fp32", "onnxruntime-gpu"),
        ("tensorrt", 1, "fp16", "tensorrt-fp16 (triton onnxruntime backend)"),
        ("auto", 2, "fp32", "tensorrt-fp32 (triton onnxruntime backend)"),
    ],
)
def test_fake_gpu_runtime_is_read_back_from_the_repository(
    tmp_path: Path, classifier: LogisticRegression, backend: str, gpus: int, precision: str, expected: str
) -> None:
    options = choose_serving_options(
        settings(backend=backend, tensorrt_precision=precision), lambda: True, fake_gpu_capability(gpus=gpus)
    )
    exported = export_classifier(classifier, len(FEATURES), input_name=INPUT_NAME)
    write_model(tmp_path, "m-v1", exported, options)
    assert runtime_of_model(tmp_path, "m-v1") == expected
    assert runtime_of_model(tmp_path, "missing") == ""
