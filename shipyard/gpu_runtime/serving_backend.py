"""Which way Triton runs a deployment, from ``serving.backend`` and what the machine and server offer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from shipyard.errors import EngineUnavailable, InvalidInput
from shipyard.gpu_runtime.batching import batching_settings
from shipyard.gpu_runtime.tensorrt import (
    TensorRTCapability,
    detect_tensorrt,
    require_tensorrt,
    triton_precision,
)
from shipyard.gpu_runtime.triton_repository import CONFIG_FILE, ServingOptions

if TYPE_CHECKING:
    from shipyard.config import ServingSettings

BACKENDS = ("auto", "onnxruntime", "python", "tensorrt")


def choose_serving_options(
    cfg: ServingSettings,
    has_onnxruntime: Callable[[], bool],
    detect: Callable[[bool], TensorRTCapability] = detect_tensorrt,
) -> ServingOptions:
    """Serving options for ``cfg.backend``; a backend the server or machine lacks raises a clear error."""
    batching = batching_settings(cfg)
    return replace(
        _backend_options(cfg, has_onnxruntime, detect),
        max_batch_size=batching.max_batch_size,
        max_queue_delay_us=batching.max_queue_delay_us,
    )


def _backend_options(
    cfg: ServingSettings,
    has_onnxruntime: Callable[[], bool],
    detect: Callable[[bool], TensorRTCapability],
) -> ServingOptions:
    backend = cfg.backend
    if backend not in BACKENDS:
        # The config loader validates this already; a value set in code after loading still gets a clear error.
        raise InvalidInput(
            f"serving.backend = {backend!r} is not one of {', '.join(BACKENDS)}; fix it in shipyard.toml"
        )
    if backend == "python":
        return ServingOptions(backend="python")
    ort = has_onnxruntime()
    if backend == "onnxruntime" and not ort:
        raise EngineUnavailable(
            "serving.backend = 'onnxruntime' but the Triton in use has no onnxruntime backend; set "
            "serving.backend to 'auto' or 'python', or point serving.triton_url at a full Triton build"
        )
    if backend == "auto" and not ort:
        return ServingOptions(backend="python")
    cap = detect(ort)
    precision = triton_precision(cfg.tensorrt_precision)
    if backend == "tensorrt":
        require_tensorrt(cap)
        if not ort:
            raise EngineUnavailable(
                "serving.backend = 'tensorrt' runs TensorRT through Triton's onnxruntime backend, which the "
                "Triton in use lacks; point serving.triton_url at a full Triton build"
            )
        return ServingOptions(
            backend="onnxruntime", gpus=cap.gpus, tensorrt=True, tensorrt_precision=precision
        )
    # auto / onnxruntime: on a GPU, auto adds the TensorRT accelerator; onnxruntime keeps plain CUDA/CPU.
    return ServingOptions(
        backend="onnxruntime", gpus=cap.gpus, tensorrt=backend == "auto", tensorrt_precision=precision
    )


def runtime_name(options: ServingOptions) -> str:
    """A short description of the runtime ``options`` select, for deployment records and progress."""
    if options.backend == "python":
        return "onnxruntime-cpu (triton python backend)"
    if options.gpus > 0 and options.tensorrt:
        return f"tensorrt-{options.tensorrt_precision.lower()} (triton onnxruntime backend)"
    return "onnxruntime-gpu" if options.gpus > 0 else "onnxruntime-cpu"


def runtime_of_model(repository: Path, triton_model: str) -> str:
    """The runtime a served model uses, read back from its ``config.pbtxt`` ("" when it is not written)."""
    try:
        config = (repository / triton_model / CONFIG_FILE).read_text(encoding="utf-8")
    except OSError:
        return ""
    if 'backend: "python"' in config:
        return runtime_name(ServingOptions(backend="python"))
    gpus = 1 if "KIND_GPU" in config else 0
    precision: Literal["FP16", "FP32"] = "FP16" if '"precision_mode" value: "FP16"' in config else "FP32"
    trt = 'name : "tensorrt"' in config
    return runtime_name(
        ServingOptions(backend="onnxruntime", gpus=gpus, tensorrt=trt, tensorrt_precision=precision)
    )
