"""Drift and HTML reports of two frames or files (Parquet/CSV), without a workspace: what `monitor drift` runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from shipyard.errors import InvalidInput, NotFound
from shipyard.monitor import drift as drift_stats
from shipyard.monitor.calibration import CalibrationPolicy, calibrated_drift
from shipyard.monitor.drift import DriftReport
from shipyard.monitor.profile import build_profile
from shipyard.monitor.report import HtmlReport

FRAME_SUFFIXES = (".parquet", ".csv")
RULES = ("calibrated", "classic")


def compute_drift(
    reference: pd.DataFrame | Path | str,
    current: pd.DataFrame | Path | str,
    features: list[str] | None = None,
    rule: str = "calibrated",
    policy: CalibrationPolicy | None = None,
) -> DriftReport:
    """Drift of ``current`` against ``reference``, each a DataFrame or a .parquet/.csv path; no workspace needed.

    ``rule="calibrated"`` (default) compares each statistic with a threshold calibrated from the reference
    at this window size; ``"classic"`` is the issue-2 rule (Bonferroni p-values plus effect-size floors).
    """
    if rule not in RULES:
        raise InvalidInput(f"rule {rule!r} is not known; use one of {', '.join(RULES)}")
    ref, cur = load_frame(reference, "reference"), load_frame(current, "current")
    if rule == "classic":
        return drift_stats.compute_drift(ref, cur, features)
    # Validates both frames and the feature list with the classic rule's messages.
    columns = drift_stats._select_features(ref, cur, features)
    return calibrated_drift(build_profile(ref, columns), cur, columns, policy)


def load_frame(value: pd.DataFrame | Path | str, role: str) -> pd.DataFrame:
    """``value`` itself, or the Parquet/CSV file it names; errors name the path."""
    if isinstance(value, pd.DataFrame):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidInput(f"{role} must be a DataFrame or a .parquet/.csv path, got {type(value).__name__}")
    path = Path(value).expanduser()
    suffix = path.suffix.lower()
    if suffix not in FRAME_SUFFIXES:
        raise InvalidInput(
            f"{role} {path}: unsupported file type {suffix or '(none)'!r}; use .parquet or .csv"
        )
    if not path.exists():
        raise NotFound(f"{role} {path} does not exist; check the path")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        # pyarrow's ArrowInvalid and pandas' ParserError/EmptyDataError are ValueErrors.
        kind = "Parquet" if suffix == ".parquet" else "CSV"
        raise InvalidInput(f"{role} {path} cannot be read as {kind}: {exc}") from exc


def drift_report(
    reference: pd.DataFrame | Path | None, current: pd.DataFrame | Path | None, out: Path
) -> HtmlReport:
    """Evidently HTML drift report of ``current`` against ``reference`` (frames or paths); no workspace needed."""
    from shipyard.monitor.report import write_drift_report

    if reference is None or current is None:
        raise InvalidInput("give a deployment, or both --reference and --current")
    ref, cur = load_frame(reference, "reference"), load_frame(current, "current")
    return write_drift_report(ref, cur, drift_stats._select_features(ref, cur, None), Path(out))


def drift_policy(**knobs: Any) -> CalibrationPolicy:
    """A ``CalibrationPolicy`` from keyword knobs; a bad value is ``InvalidInput`` naming the knob."""
    from pydantic import ValidationError

    try:
        return CalibrationPolicy(**knobs)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"drift policy is not valid: {problems}") from exc
