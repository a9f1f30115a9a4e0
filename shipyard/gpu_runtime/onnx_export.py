"""Classifiers -> ONNX (skl2onnx, onnxmltools, torch.onnx): one float32 input, probabilities as a plain tensor."""

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


SUPPORTED_FLAVORS = ("scikit-learn", "xgboost", "lightgbm", "pytorch")
_ONNX_OPSET = {"": 17, "ai.onnx.ml": 3}


def model_flavor(model: Any) -> str:
    """Which exporter handles ``model``: one of ``SUPPORTED_FLAVORS``, or ``InvalidInput`` naming them."""
    from sklearn.base import BaseEstimator

    from shipyard.gpu_runtime.torch_model import TorchClassifier

    if isinstance(model, TorchClassifier):
        return "pytorch"
    root = type(model).__module__.partition(".")[0]
    if root in ("xgboost", "lightgbm"):
        return root
    supported = ", ".join(SUPPORTED_FLAVORS)
    if root == "torch":
        raise InvalidInput(
            f"model {type(model).__name__} is a bare torch module; wrap it as "
            "shipyard.gpu_runtime.torch_model.TorchClassifier(module, n_features) before logging it "
            f"(supported flavors: {supported})"
        )
    if isinstance(model, BaseEstimator):
        return "scikit-learn"
    raise InvalidInput(
        f"model {type(model).__module__}.{type(model).__name__} is not a supported flavor for ONNX export; "
        f"supported flavors: {supported}"
    )


def export_classifier(model: Any, n_features: int, *, input_name: str = INPUT_NAME) -> OnnxModel:
    """Convert a fitted classifier (sklearn, XGBoost, LightGBM or PyTorch) on ``n_features`` columns to ONNX."""
    flavor = model_flavor(model)
    if not hasattr(model, "predict_proba"):
        raise InvalidInput(
            f"model {type(model).__name__} has no predict_proba(); only probabilistic classifiers can be deployed"
        )
    if n_features < 1:
        raise InvalidInput(f"a deployable model needs at least one feature column, got {n_features}")
    try:
        if flavor == "pytorch":
            from shipyard.gpu_runtime.torch_export import export_torch

            proto = export_torch(model, n_features, input_name=input_name)
        else:
            proto = _convert_sklearn_api(model, n_features, input_name)
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - converters raise many unrelated types for unsupported models
        raise OperationFailed(
            f"ONNX export of {type(model).__name__} failed ({flavor}): {exc}; use an estimator the converter "
            "supports (linear models, trees, forests, gradient boosting, pipelines of these, XGBoost/LightGBM "
            "classifiers, or a TorchClassifier)"
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


def _convert_sklearn_api(model: Any, n_features: int, input_name: str) -> Any:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from shipyard.gpu_runtime.boosting_converters import (
        register_boosting_converters,
        without_xgboost_feature_names,
    )

    boosted = register_boosting_converters(model)
    model = without_xgboost_feature_names(model)
    return convert_sklearn(
        model,
        initial_types=[(input_name, FloatTensorType([None, n_features]))],
        # zipmap=False: probabilities come out as a [N, classes] tensor, not a list of dicts.
        options={id(model): {"zipmap": False}},
        # onnxmltools' tree converters emit the ai.onnx.ml v3 TreeEnsemble operators.
        target_opset=_ONNX_OPSET if boosted else None,
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
