"""XGBoost, LightGBM and PyTorch classifiers export to ONNX with parity; other flavors are refused clearly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime.onnx_export import SUPPORTED_FLAVORS, export_classifier, model_flavor
from shipyard.gpu_runtime.parity import check_parity
from shipyard.gpu_runtime.torch_model import TorchClassifier

from .conftest import FEATURES


def _xgboost(frame: pd.DataFrame) -> Any:
    import xgboost

    return xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(frame[FEATURES], frame["churned"])


def _lightgbm(frame: pd.DataFrame) -> Any:
    import lightgbm

    return lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame[FEATURES], frame["churned"])


def _torch_softmax(frame: pd.DataFrame) -> Any:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    return TorchClassifier(net, n_features=len(FEATURES))


def _torch_sigmoid(frame: pd.DataFrame) -> Any:
    import torch

    torch.manual_seed(1)
    return TorchClassifier(torch.nn.Linear(4, 1), n_features=len(FEATURES))


@pytest.mark.parametrize(
    ("build", "flavor"),
    [
        (_xgboost, "xgboost"),
        (_lightgbm, "lightgbm"),
        (_torch_softmax, "pytorch"),
        (_torch_sigmoid, "pytorch"),
    ],
    ids=["xgboost", "lightgbm", "torch-softmax", "torch-one-logit"],
)
def test_flavor_exports_with_parity(
    build: Callable[[pd.DataFrame], Any], flavor: str, frame: pd.DataFrame
) -> None:
    model = build(frame)
    assert model_flavor(model) == flavor
    exported = export_classifier(model, len(FEATURES))
    by_name = {o.name: o for o in exported.outputs}
    assert by_name["label"].dtype == "TYPE_INT64" and by_name["label"].dims == [-1]
    assert by_name["probabilities"].dims == [-1, 2]
    report = check_parity(model, exported, frame, FEATURES, rows=400, tolerance=1e-5)
    assert report.passed and report.rows == 400
    # The served label agrees with the model's own prediction.
    from shipyard.gpu_runtime.parity import onnx_session

    (labels,) = onnx_session(exported.onnx).run(["label"], {"input": frame[FEATURES].to_numpy(np.float32)})
    assert (labels == np.asarray(model.predict(frame[FEATURES]))).mean() > 0.99


def test_xgboost_export_leaves_the_callers_model_untouched(frame: pd.DataFrame) -> None:
    model = _xgboost(frame)
    export_classifier(model, len(FEATURES))
    assert model.get_booster().feature_names == FEATURES


def test_torch_classifier_labels_follow_given_classes(frame: pd.DataFrame) -> None:
    model = _torch_softmax(frame)
    model.classes = [3, 7]
    exported = export_classifier(model, len(FEATURES))
    from shipyard.gpu_runtime.parity import onnx_session

    (labels,) = onnx_session(exported.onnx).run(["label"], {"input": frame[FEATURES].to_numpy(np.float32)})
    assert set(np.unique(labels)) <= {3, 7}
    np.testing.assert_array_equal(labels, model.predict(frame[FEATURES]))


class _NotAnEstimator:
    def predict_proba(self, x: Any) -> np.ndarray:
        return np.full((len(x), 2), 0.5)


def _bare_torch_module() -> Any:
    import torch

    return torch.nn.Linear(4, 2)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            _NotAnEstimator,
            "not a supported flavor for ONNX export; supported flavors: " + ", ".join(SUPPORTED_FLAVORS),
        ),
        (
            _bare_torch_module,
            "bare torch module; wrap it as shipyard.gpu_runtime.torch_model.TorchClassifier",
        ),
    ],
    ids=["plain object", "bare torch module"],
)
def test_unsupported_flavors_are_invalid_input(build: Callable[[], Any], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        export_classifier(build(), len(FEATURES))


def test_float32_threshold_flips_are_caught_by_parity(frame: pd.DataFrame) -> None:
    import xgboost
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # A scaler in float32 (ONNX) vs float64 (sklearn) moves rows across deep trees' split thresholds.
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 4)), columns=FEATURES)
    wide["churned"] = (wide["f0"] + wide["f1"] > 0).astype(int)
    model = make_pipeline(StandardScaler(), xgboost.XGBClassifier(n_estimators=100)).fit(
        wide[FEATURES], wide["churned"]
    )
    exported = export_classifier(model, len(FEATURES))
    with pytest.raises(OperationFailed, match="parity check failed"):
        check_parity(model, exported, wide, FEATURES, rows=300, tolerance=1e-4)
