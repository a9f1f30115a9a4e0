"""The parity gate: ONNX must reproduce sklearn's probabilities, or nothing is deployed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime.onnx_export import export_classifier
from shipyard.gpu_runtime.parity import _max_abs_diff, check_parity

from .conftest import FEATURES


def test_parity_passes_for_a_faithful_export(classifier: LogisticRegression, frame: pd.DataFrame) -> None:
    exported = export_classifier(classifier, len(FEATURES))
    report = check_parity(classifier, exported, frame, FEATURES, rows=300, tolerance=1e-4)
    assert report.passed
    assert report.rows == 300
    assert 0 <= report.max_abs_diff < 1e-5


def test_parity_uses_at_most_parity_rows(classifier: LogisticRegression, frame: pd.DataFrame) -> None:
    exported = export_classifier(classifier, len(FEATURES))
    assert check_parity(classifier, exported, frame, FEATURES, rows=10, tolerance=1e-4).rows == 10
    assert check_parity(classifier, exported, frame, FEATURES, rows=10_000, tolerance=1e-4).rows == len(frame)


def test_parity_fails_when_float32_noise_exceeds_a_zero_tolerance(
    classifier: LogisticRegression, frame: pd.DataFrame
) -> None:
    exported = export_classifier(classifier, len(FEATURES))
    with pytest.raises(OperationFailed, match="parity check failed") as info:
        check_parity(classifier, exported, frame, FEATURES, rows=300, tolerance=0.0)
    assert "nothing was deployed" in info.value.message
    assert info.value.detail["rows"] == 300


def test_parity_catches_a_mismatched_export(classifier: LogisticRegression, frame: pd.DataFrame) -> None:
    other = LogisticRegression().fit(frame[FEATURES], 1 - frame["churned"])
    wrong = export_classifier(other, len(FEATURES))
    with pytest.raises(OperationFailed, match="exceeds serving.parity_tolerance"):
        check_parity(classifier, wrong, frame, FEATURES, rows=100, tolerance=1e-4)


@pytest.mark.parametrize(
    ("reference", "error", "message"),
    [
        (lambda df: df.drop(columns=["f2"]), InvalidInput, "lacks feature columns f2"),
        (lambda df: df.iloc[0:0], OperationFailed, "reference sample is empty"),
        (lambda df: df.assign(f0="text"), OperationFailed, "could not score"),
    ],
    ids=["missing column", "empty", "unscorable"],
)
def test_bad_reference_samples(
    classifier: LogisticRegression,
    frame: pd.DataFrame,
    reference,
    error,
    message,  # type: ignore[no-untyped-def]
) -> None:
    exported = export_classifier(classifier, len(FEATURES))
    with pytest.raises(error, match=message):
        check_parity(classifier, exported, reference(frame), FEATURES, rows=50, tolerance=1e-4)


@pytest.mark.parametrize(
    ("expected", "actual", "gap"),
    [
        ([0.1, 0.2], [0.1, 0.25], 0.05),
        ([np.nan, 0.2], [np.nan, 0.2], 0.0),
        ([np.nan, 0.2], [0.3, 0.2], np.inf),
        ([0.3, 0.2], [np.nan, 0.2], np.inf),
    ],
    ids=["plain", "nan both", "nan expected only", "nan actual only"],
)
def test_max_abs_diff_treats_one_sided_nan_as_total_mismatch(expected, actual, gap) -> None:  # type: ignore[no-untyped-def]
    assert _max_abs_diff(np.array(expected), np.array(actual)) == pytest.approx(gap)
