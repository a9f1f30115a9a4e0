"""sklearn -> ONNX: tensors Triton must declare, and refusals for what cannot be served."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime.onnx_export import TensorSpec, export_classifier
from shipyard.gpu_runtime.parity import onnx_probabilities, onnx_session

from .conftest import FEATURES


def test_logistic_regression_exports_plain_probability_tensor(classifier: LogisticRegression) -> None:
    exported = export_classifier(classifier, len(FEATURES))
    assert exported.inputs == [TensorSpec("input", "TYPE_FP32", [-1, 4])]
    assert exported.probability_output == "probabilities"
    assert exported.label_output == "label"
    assert exported.n_classes == 2
    by_name = {o.name: o for o in exported.outputs}
    assert by_name["probabilities"] == TensorSpec("probabilities", "TYPE_FP32", [-1, 2])
    assert by_name["label"] == TensorSpec("label", "TYPE_INT64", [-1])


@pytest.mark.parametrize(
    "estimator",
    [
        make_pipeline(StandardScaler(), LogisticRegression()),
        RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0),
        GradientBoostingClassifier(n_estimators=20, random_state=0),
    ],
    ids=["pipeline", "random forest", "gradient boosting"],
)
def test_common_classifiers_export_and_match_sklearn(estimator: object, frame: pd.DataFrame) -> None:
    model = estimator.fit(frame[FEATURES], frame["churned"])  # type: ignore[attr-defined]
    exported = export_classifier(model, len(FEATURES))
    x = frame[FEATURES].to_numpy(np.float64)
    got = onnx_probabilities(onnx_session(exported.onnx), exported, x)
    assert np.max(np.abs(got - model.predict_proba(frame[FEATURES]))) < 1e-5


def test_regressors_are_refused(frame: pd.DataFrame) -> None:
    model = LinearRegression().fit(frame[FEATURES], frame["churned"])
    with pytest.raises(InvalidInput, match="no predict_proba"):
        export_classifier(model, len(FEATURES))


def test_zero_features_are_refused(classifier: LogisticRegression) -> None:
    with pytest.raises(InvalidInput, match="at least one feature"):
        export_classifier(classifier, 0)


class HandRolledClassifier(ClassifierMixin, BaseEstimator):
    """A classifier skl2onnx has no converter for."""

    def fit(self, x: object, y: object) -> HandRolledClassifier:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, x: object) -> np.ndarray:
        return np.full((len(x), 2), 0.5)  # type: ignore[arg-type]


def test_unsupported_estimators_fail_with_a_hint(frame: pd.DataFrame) -> None:
    model = HandRolledClassifier().fit(frame[FEATURES], frame["churned"])
    with pytest.raises(OperationFailed, match="ONNX export of HandRolledClassifier failed"):
        export_classifier(model, len(FEATURES))
