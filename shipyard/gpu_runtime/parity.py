"""Numeric parity between the registered sklearn model and its ONNX export, checked before anything serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, OperationFailed

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from shipyard.gpu_runtime.onnx_export import OnnxModel


@dataclass(frozen=True)
class ParityReport:
    """How closely ONNX Runtime reproduced sklearn's probabilities on the reference sample."""

    rows: int
    max_abs_diff: float
    tolerance: float
    passed: bool


def onnx_session(onnx: bytes, *, threads: int = 1) -> Any:
    """An in-process ONNX Runtime CPU session for ``onnx``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])


def onnx_probabilities(session: Any, exported: OnnxModel, features: np.ndarray) -> np.ndarray:
    """Class probabilities [N, classes] from an ONNX Runtime session."""
    import numpy as np

    (probs,) = session.run([exported.probability_output], {exported.input_name: features.astype(np.float32)})
    return np.asarray(probs, dtype=np.float64)


def check_parity(
    model: Any,
    exported: OnnxModel,
    reference: pd.DataFrame,
    feature_columns: list[str],
    *,
    rows: int,
    tolerance: float,
    session: Any = None,
) -> ParityReport:
    """Compare sklearn and ONNX Runtime (``session``, CPU by default) probabilities; raise if they differ."""
    import numpy as np

    missing = [c for c in feature_columns if c not in reference.columns]
    if missing:
        raise InvalidInput(
            f"reference sample lacks feature columns {', '.join(missing)}; re-register the model"
        )
    sample = reference[feature_columns].head(rows)
    if sample.empty:
        raise OperationFailed("reference sample is empty: parity cannot be checked; re-register the model")
    try:
        expected = np.asarray(model.predict_proba(sample), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - any estimator failure means the reference cannot be scored
        raise OperationFailed(f"sklearn could not score the reference sample: {exc}") from exc
    runner = session if session is not None else onnx_session(exported.onnx)
    actual = onnx_probabilities(runner, exported, sample.to_numpy(dtype=np.float64))
    if expected.shape != actual.shape:
        raise OperationFailed(
            f"parity check failed: sklearn gave probabilities of shape {expected.shape}, ONNX {actual.shape}; "
            "nothing was deployed"
        )
    # Binary classifiers are compared on the positive class, as served; multi-class on every class.
    cols = slice(1, 2) if expected.shape[1] == 2 else slice(None)
    diff = _max_abs_diff(expected[:, cols], actual[:, cols])
    report = ParityReport(rows=len(sample), max_abs_diff=diff, tolerance=tolerance, passed=diff <= tolerance)
    if not report.passed:
        raise OperationFailed(
            f"parity check failed: max |sklearn - ONNX| probability difference {diff:.3g} on {len(sample)} "
            f"reference rows exceeds serving.parity_tolerance {tolerance:g}; nothing was deployed. Check the "
            "model's preprocessing converts to ONNX, or raise the tolerance if the gap is acceptable",
            detail={"max_abs_diff": diff, "rows": len(sample), "tolerance": tolerance},
        )
    return report


def _max_abs_diff(expected: np.ndarray, actual: np.ndarray) -> float:
    import numpy as np

    gap = np.abs(expected - actual)
    both_nan = np.isnan(expected) & np.isnan(actual)
    # NaN on one side only is a total mismatch; NaN on both sides agrees.
    gap = np.where(both_nan, 0.0, np.where(np.isnan(gap), np.inf, gap))
    return float(gap.max()) if gap.size else 0.0
