"""sklearn -> ONNX with skl2onnx: one float32 input, probabilities as a plain tensor (no ZipMap)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipyard.errors import InvalidInput, OperationFailed

INPUT_NAME = "input"


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as Triton sees it."""

    name: str
    dtype: str  # Triton data type: TYPE_FP32, TYPE_INT64, ...
    dims: list[int]  # -1 = variable; the batch dimension included


@dataclass(frozen=True)
class OnnxModel:
    """An exported model: the ONNX bytes and the tensors a server must declare for it."""

    onnx: bytes
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    n_features: int
    probability_output: str
    label_output: str
    n_classes: int

    @property
    def input_name(self) -> str:
        return self.inputs[0].name


_ONNX_TO_TRITON = {
    1: "TYPE_FP32",
    6: "TYPE_INT32",
    7: "TYPE_INT64",
    11: "TYPE_FP64",
    9: "TYPE_BOOL",
    8: "TYPE_STRING",
}


def export_classifier(model: Any, n_features: int, *, input_name: str = INPUT_NAME) -> OnnxModel:
    """Convert a fitted sklearn classifier taking ``n_features`` numeric columns to ONNX."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    if not hasattr(model, "predict_proba"):
        raise InvalidInput(
            f"model {type(model).__name__} has no predict_proba(); only probabilistic classifiers can be deployed"
        )
    if n_features < 1:
        raise InvalidInput(f"a deployable model needs at least one feature column, got {n_features}")
    try:
        proto = convert_sklearn(
            model,
            initial_types=[(input_name, FloatTensorType([None, n_features]))],
            # zipmap=False: probabilities come out as a [N, classes] tensor, not a list of dicts.
            options={id(model): {"zipmap": False}},
        )
    except Exception as exc:  # noqa: BLE001 - skl2onnx raises many unrelated types for unsupported models
        raise OperationFailed(
            f"ONNX export of {type(model).__name__} failed: {exc}; use an estimator skl2onnx supports "
            "(linear models, trees, forests, gradient boosting, pipelines of these)"
        ) from exc
    outputs = [_spec(o) for o in proto.graph.output]
    prob = next((o for o in outputs if o.dtype == "TYPE_FP32" and len(o.dims) == 2), None)
    label = next((o for o in outputs if len(o.dims) == 1), None)
    if prob is None or label is None:
        names = ", ".join(o.name for o in outputs)
        raise OperationFailed(
            f"ONNX export of {type(model).__name__} has no probability tensor (outputs: {names})"
        )
    n_classes = prob.dims[1] if prob.dims[1] > 0 else len(getattr(model, "classes_", [])) or 2
    return OnnxModel(
        onnx=proto.SerializeToString(),
        inputs=[TensorSpec(input_name, "TYPE_FP32", [-1, n_features])],
        outputs=outputs,
        n_features=n_features,
        probability_output=prob.name,
        label_output=label.name,
        n_classes=n_classes,
    )


def _spec(value_info: Any) -> TensorSpec:
    tensor = value_info.type.tensor_type
    dtype = _ONNX_TO_TRITON.get(tensor.elem_type)
    if dtype is None:
        raise OperationFailed(
            f"ONNX output {value_info.name!r} has element type {tensor.elem_type}, not servable"
        )
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
    return TensorSpec(value_info.name, dtype, dims)
