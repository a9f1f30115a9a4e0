"""TensorRT on GPU: the capability check, the in-process TensorRT session and its parity check against sklearn.

Triton runs TensorRT as the ONNX Runtime backend's GPU execution accelerator (see ``triton_repository``), so
serving needs a GPU and a Triton with the ``onnxruntime`` backend. The in-process parity check needs ONNX
Runtime's ``TensorrtExecutionProvider``; without it the smoke inference on Triton is the parity check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from shipyard.errors import EngineUnavailable

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.gpu_runtime.onnx_export import OnnxModel
    from shipyard.gpu_runtime.parity import ParityReport

Precision = Literal["fp16", "fp32"]
TENSORRT_PROVIDER = "TensorrtExecutionProvider"


@dataclass(frozen=True)
class TensorRTCapability:
    """What this machine offers towards running a model under TensorRT."""

    gpus: int
    triton_onnxruntime: bool
    tensorrt_package: bool
    ort_tensorrt_provider: bool

    @property
    def usable(self) -> bool:
        """A GPU, and a way to run TensorRT on it (Triton's ONNX Runtime backend or the tensorrt package)."""
        return self.gpus > 0 and (self.triton_onnxruntime or self.tensorrt_package)

    def missing(self) -> str:
        """What is missing, in words ("" when usable)."""
        parts = []
        if self.gpus <= 0:
            parts.append("no NVIDIA GPU is visible (check the driver and CUDA_VISIBLE_DEVICES)")
        if not (self.triton_onnxruntime or self.tensorrt_package):
            parts.append(
                "the Triton in use has no onnxruntime backend and the tensorrt package is not installed"
            )
        return "; ".join(parts)


def detect_tensorrt(triton_onnxruntime: bool, gpus: int | None = None) -> TensorRTCapability:
    """Probe for TensorRT without importing any GPU library unless a GPU is present."""
    import importlib.util

    from shipyard.gpu_runtime.devices import gpu_count

    n = gpu_count() if gpus is None else gpus
    package = importlib.util.find_spec("tensorrt") is not None
    provider = False
    if n > 0:
        import onnxruntime as ort

        provider = TENSORRT_PROVIDER in ort.get_available_providers()
    return TensorRTCapability(n, triton_onnxruntime, package, provider)


def require_tensorrt(cap: TensorRTCapability) -> None:
    """Raise ``EngineUnavailable`` saying what is missing when TensorRT cannot run here."""
    if not cap.usable:
        raise EngineUnavailable(
            f"serving.backend = 'tensorrt' cannot run on this machine: {cap.missing()}. Set serving.backend "
            "to 'auto' (ONNX Runtime on CPU, TensorRT when a GPU is present) or deploy from a GPU machine"
        )


def triton_precision(precision: Precision) -> Literal["FP16", "FP32"]:
    """The ``precision_mode`` value Triton's TensorRT accelerator expects."""
    return "FP16" if precision == "fp16" else "FP32"


def tensorrt_session(onnx: bytes, precision: Precision, cap: TensorRTCapability) -> Any:
    """An ONNX Runtime session on the TensorRT execution provider (CUDA, then CPU, for unsupported nodes)."""
    require_tensorrt(cap)
    if not cap.ort_tensorrt_provider:
        raise EngineUnavailable(
            f"ONNX Runtime here has no {TENSORRT_PROVIDER}; install onnxruntime-gpu built with TensorRT to "
            "check TensorRT parity in-process (Triton's smoke inference still checks the served model)"
        )
    import onnxruntime as ort

    trt_options = {"trt_fp16_enable": precision == "fp16", "trt_max_workspace_size": 1 << 30}
    providers: list[Any] = [(TENSORRT_PROVIDER, trt_options), "CUDAExecutionProvider", "CPUExecutionProvider"]
    return ort.InferenceSession(onnx, ort.SessionOptions(), providers=providers)


def check_tensorrt_parity(
    model: Any,
    exported: OnnxModel,
    reference: pd.DataFrame,
    feature_columns: list[str],
    *,
    precision: Precision,
    cap: TensorRTCapability,
    rows: int,
    tolerance: float,
) -> ParityReport:
    """sklearn vs the TensorRT session, under the same tolerance as the ONNX Runtime CPU check."""
    from shipyard.gpu_runtime.parity import check_parity

    session = tensorrt_session(exported.onnx, precision, cap)
    return check_parity(
        model, exported, reference, feature_columns, rows=rows, tolerance=tolerance, session=session
    )
