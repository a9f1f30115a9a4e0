"""Delayed ground truth: label files joined to logged predictions, metrics and latency on rolling windows.

Labels are joined by ``request_id``, or by entity keys + timestamp (the latest prediction for that entity
at or before the label's ``ts``). Label files are stored as Parquet under the deployment's monitor folder;
labels for request ids never logged are counted as unmatched, not an error.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput


@dataclass
class LabelIngest:
    """Result of one label ingest."""

    rows: int
    matched: int
    unmatched: int
    path: str


@dataclass
class MetricWindow:
    """Metrics of one window of labelled predictions."""

    start: str
    end: str
    rows: int
    metrics: dict[str, float] = field(default_factory=dict)


def check_labels(frame: pd.DataFrame, entity_keys: list[str]) -> pd.DataFrame:
    """The label frame, validated: a ``label`` column and either ``request_id`` or entity keys + ``ts``."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InvalidInput(
            "the label file has no rows; expected columns request_id,label (or entity keys,ts,label)"
        )
    if "label" not in frame.columns:
        raise InvalidInput(
            f"the label file has no 'label' column (columns: {', '.join(map(str, frame.columns))})"
        )
    if "request_id" in frame.columns:
        out = frame[["request_id", "label"]].copy()
        out["request_id"] = out["request_id"].astype(str)
    else:
        needed = [*entity_keys, "ts"]
        missing = [c for c in needed if c not in frame.columns]
        if not entity_keys or missing:
            raise InvalidInput(
                f"the label file needs request_id, or the entity keys and ts ({', '.join(needed) or 'ts'}); "
                f"missing: {', '.join(missing) or 'entity keys unknown'}"
            )
        out = frame[[*needed, "label"]].copy()
        try:
            out["ts"] = pd.to_datetime(out["ts"], utc=True)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"label column 'ts' holds values that are not timestamps ({exc})") from exc
    labels = pd.to_numeric(out["label"], errors="coerce")
    bad = labels.isna() | ~np.isfinite(labels.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInput(
            f"label row {row} holds {frame['label'].iloc[row]!r}; labels must be finite numbers"
        )
    out["label"] = labels.astype(np.float64)
    return out


def join_labels(predictions: pd.DataFrame, labels: pd.DataFrame, entity_keys: list[str]) -> pd.DataFrame:
    """Predictions with a ``label`` column, for the rows that have one."""
    if predictions.empty or labels.empty:
        return predictions.iloc[0:0].assign(label=pd.Series(dtype=np.float64))
    if "request_id" in labels.columns:
        by_id = labels.drop_duplicates("request_id", keep="last")
        return predictions.merge(by_id, on="request_id", how="inner")
    # Parquet round trips may change the datetime unit (ns vs us); merge_asof needs one.
    left = predictions.assign(ts=predictions["ts"].astype("datetime64[ns, UTC]")).sort_values("ts")
    right = labels.assign(ts=labels["ts"].astype("datetime64[ns, UTC]")).sort_values("ts")
    right = right.rename(columns={"ts": "label_ts"})
    joined = pd.merge_asof(
        right, left, left_on="label_ts", right_on="ts", by=entity_keys, direction="backward"
    )
    return joined.dropna(subset=["request_id"])


def save_labels(folder: Path, labels: pd.DataFrame) -> Path:
    """Store one ingested label batch as Parquet; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"labels-{uuid.uuid4().hex[:12]}.parquet"
    tmp = path.with_suffix(".tmp")
    labels.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def load_labels(folder: Path) -> pd.DataFrame:
    """Every stored label batch, in ingest order."""
    files = (
        sorted(folder.glob("labels-*.parquet"), key=lambda p: p.stat().st_mtime) if folder.exists() else []
    )
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Classification metrics when labels are 0/1 (AUC, F1, precision, recall, ECE), else RMSE and MAE."""
    out: dict[str, float] = {"rows": float(y.size)}
    if y.size == 0:
        return out
    if np.isin(y, (0.0, 1.0)).all():
        from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

        predicted = (score >= 0.5).astype(int)
        if np.unique(y).size == 2:
            out["auc"] = float(roc_auc_score(y, score))
            out |= _auc_interval(out["auc"], int(y.sum()), int(y.size - y.sum()))
        out["f1"] = float(f1_score(y, predicted, zero_division=0))
        out["precision"] = float(precision_score(y, predicted, zero_division=0))
        out["recall"] = float(recall_score(y, predicted, zero_division=0))
        out |= _confusion_intervals(y, predicted)
        out["ece"] = expected_calibration_error(y, score)
    else:
        err = score - y
        out["rmse"] = float(np.sqrt(np.mean(err**2)))
        out["mae"] = float(np.mean(np.abs(err)))
        out |= _error_intervals(err)
    return out


def _confusion_intervals(y: np.ndarray, predicted: np.ndarray, draws: int = 2000) -> dict[str, float]:
    """95% bootstrap intervals of F1, precision and recall (resampling the confusion-matrix cells)."""
    cells = np.array(
        [
            np.sum((predicted == 1) & (y == 1)),
            np.sum((predicted == 1) & (y == 0)),
            np.sum((predicted == 0) & (y == 1)),
            np.sum((predicted == 0) & (y == 0)),
        ],
        dtype=np.float64,
    )
    # A row bootstrap of a confusion-matrix statistic is a multinomial draw of its four cells: exact, cheap.
    rng = np.random.default_rng(0)
    tp, fp, fn, _ = rng.multinomial(int(cells.sum()), cells / cells.sum(), size=draws).T.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
            "recall": np.where(tp + fn > 0, tp / (tp + fn), 0.0),
            "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0),
        }
    out = {}
    for name, v in values.items():
        out[f"{name}_low"], out[f"{name}_high"] = (float(q) for q in np.quantile(v, [0.025, 0.975]))
    return out


def _error_intervals(err: np.ndarray) -> dict[str, float]:
    """95% normal-approximation intervals of MAE and RMSE (via the mean squared error)."""
    n = err.size
    if n < 2:
        return {}
    half = 1.96 / math.sqrt(n)
    mae_half = half * float(np.std(np.abs(err), ddof=1))
    mse, mse_half = float(np.mean(err**2)), half * float(np.std(err**2, ddof=1))
    mae = float(np.mean(np.abs(err)))
    return {
        "mae_low": max(0.0, mae - mae_half),
        "mae_high": mae + mae_half,
        "rmse_low": math.sqrt(max(0.0, mse - mse_half)),
        "rmse_high": math.sqrt(mse + mse_half),
    }


def _auc_interval(auc: float, positives: int, negatives: int) -> dict[str, float]:
    """95% interval of the AUC (Hanley and McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / max(
        positives * negatives, 1
    )
    half = 1.96 * math.sqrt(max(var, 0.0))
    return {"auc_low": max(0.0, auc - half), "auc_high": min(1.0, auc + half)}


def expected_calibration_error(y: np.ndarray, score: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width probability bins (scores clipped to [0, 1])."""
    p = np.clip(score, 0.0, 1.0)
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    conf = np.bincount(which, weights=p, minlength=bins)
    acc = np.bincount(which, weights=y, minlength=bins)
    used = counts > 0
    return float(np.abs(acc[used] - conf[used]).sum() / y.size)


def rolling_windows(frame: pd.DataFrame, freq: str, fn: Any) -> list[MetricWindow]:
    """Apply ``fn(rows) -> dict`` to each ``freq`` window of ``frame`` (by its ``ts`` column)."""
    if frame.empty:
        return []
    try:
        groups = frame.groupby(pd.Grouper(key="ts", freq=freq))
    except ValueError as exc:
        raise InvalidInput(f"window {freq!r} is not a pandas frequency (e.g. 1h, 1D, 15min): {exc}") from exc
    out = []
    for start, rows in groups:
        if rows.empty:
            continue
        end = start + pd.tseries.frequencies.to_offset(freq)
        out.append(MetricWindow(start.isoformat(), end.isoformat(), len(rows), fn(rows)))
    return out


def latency_stats(rows: pd.DataFrame) -> dict[str, float]:
    """p50/p95/p99 latency (ms) and request count of logged rows."""
    lat = rows["latency_ms"].to_numpy(dtype=np.float64)
    if lat.size == 0:
        return {"requests": 0.0}
    p50, p95, p99 = np.percentile(lat, [50, 95, 99])
    span = (rows["ts"].max() - rows["ts"].min()).total_seconds() if len(rows) > 1 else 0.0
    return {
        "requests": float(lat.size),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "rate_per_s": float(lat.size / span) if span > 0 else 0.0,
    }
