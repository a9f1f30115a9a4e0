"""Teach skl2onnx the XGBoost and LightGBM classifiers, using onnxmltools' converters (registered once)."""

from __future__ import annotations

import threading
from typing import Any

from shipyard.errors import InvalidInput

_registered: set[str] = set()
_lock = threading.Lock()


def boosting_libraries(model: Any) -> set[str]:
    """The boosting libraries (``xgboost``, ``lightgbm``) whose estimators appear in ``model`` or its steps."""
    found = set()
    stack = [model]
    while stack:
        item = stack.pop()
        root = type(item).__module__.partition(".")[0]
        if root in ("xgboost", "lightgbm"):
            found.add(root)
        for _, step, *_ in getattr(item, "steps", None) or getattr(item, "transformers", None) or []:
            stack.append(step)
    return found


def without_xgboost_feature_names(model: Any) -> Any:
    """A copy of ``model`` whose XGBoost boosters forget their column names (the converter wants f0, f1...)."""
    import copy

    if "xgboost" not in boosting_libraries(model):
        return model
    clone = copy.deepcopy(model)
    stack = [clone]
    while stack:
        item = stack.pop()
        if type(item).__module__.partition(".")[0] == "xgboost" and hasattr(item, "get_booster"):
            # Features are positional in the served tensor, so names carry nothing the export needs.
            item.get_booster().feature_names = None
        for _, step, *_ in getattr(item, "steps", None) or getattr(item, "transformers", None) or []:
            stack.append(step)
    return clone


def register_boosting_converters(model: Any) -> bool:
    """Register converters for the boosting estimators in ``model``; True when there were any."""
    libraries = boosting_libraries(model)
    with _lock:
        for library in sorted(libraries - _registered):
            _register(library)
            _registered.add(library)
    return bool(libraries)


def _register(library: str) -> None:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    try:
        if library == "xgboost":
            import xgboost
            from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost

            estimator, alias, converter = xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost
        else:
            import lightgbm
            from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

            estimator, alias, converter = lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm
    except ImportError as exc:
        raise InvalidInput(
            f"exporting a {library} model to ONNX needs onnxmltools and {library} installed "
            f"(pip install onnxmltools {library}): {exc}"
        ) from exc
    update_registered_converter(
        estimator,
        alias,
        calculate_linear_classifier_output_shapes,
        converter,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
