"""Drift thresholds calibrated from the reference itself, so windows from the reference rarely alarm.

Each feature's window is reduced to counts in its profile's cells (``profile.py``). Three statistics:

* ``chi2``: Pearson's chi-square of the window's cell counts against the reference cell shares (every
  cell, missing included: catches category, missing-rate, variance and new-level shifts);
* ``ks`` (numeric only): the largest gap between the window's and the reference's CDF over the value bins
  (the binned Kolmogorov-Smirnov statistic: catches location shifts best);
* ``scale`` (numeric only): Mood's scale test on the reference-quantile bins: each value scores
  ``(u - 1/2)^2`` with ``u`` its bin's mid reference quantile, and the statistic is the gap between the
  window's and the reference's mean score (two-sided: wider or narrower). KS barely moves when a feature
  spreads out around an unchanged centre, and chi-square spreads that signal over every bin; this rank
  test puts it in one number. Its null is close to normal (a mean of bounded scores), so the bootstrap
  below supplies its standard deviation.

Null distribution: a parametric bootstrap of the *two-sample* situation at the window size ``m`` — the
reference counts are redrawn ``Multinomial(N, p)`` (the reference is a sample too) and the window
``Multinomial(m, p)`` — ``draws`` times, vectorised. Its tail is then summarised so that thresholds at
small levels do not need millions of draws: chi-square by a moment-matched gamma, KS by the effective
sample size ``n_eff`` in ``P(D > d) ~ 2 exp(-2 n_eff d^2)`` fitted at the simulated 99th percentile, the
scale gap by a normal with the simulated standard deviation.

Multiple testing: with ``T`` statistics over all features, each is compared with its ``1 - alpha / T``
threshold (Bonferroni), so a window drawn from the reference alarms with probability <= ``alpha``.
Minimum effect size (``CalibrationPolicy.min_effect``, on by default): with very large windows a
calibrated threshold shrinks like 1/sqrt(m), so a 1M-row window would alarm on a 0.02 sd shift that is
real but immaterial. A check therefore breaches only when its statistic is above the calibrated threshold
*and* its effect size reaches a floor: the KS statistic itself (a CDF gap, a share of rows) against
``min_ks`` (default 0.03, about a 0.075 sd location shift), and Cohen's w = sqrt(chi2 / m) against
``min_w`` (default 0.05, Cohen's "small" is 0.1; about a 0.06 sd shift over 10 equal-frequency bins, a
missing rate 2% -> 2.7%, or 0.25% of rows in a new category), and the scale gap in units of the score's
reference standard deviation against ``min_scale`` (default 0.06: a normal feature's sd x1.05 or x0.95). At the default 1,000-row window the
calibrated thresholds are far above the floors (w > 0.15, KS > 0.06), so detection there is unchanged;
each feature reports both effects and the floors, and a significant-but-small change is listed in
``suppressed`` instead of ``reasons``.

Calibrations are cached per (cell counts, window-size bucket); window sizes are bucketed on a
2^(1/8) grid and the fitted parameters rescaled to the exact size, so a stream of windows costs one
calibration per bucket.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from shipyard.errors import InvalidInput
from shipyard.monitor.drift import DriftReport, FeatureDrift, _js, _psi, not_computable
from shipyard.monitor.profile import FeatureProfile, ReferenceProfile, window_cells

_CACHE: dict[tuple[Any, ...], tuple[float, float, float, float]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 20_000


class CalibrationPolicy(BaseModel):
    """Knobs of the calibrated drift decision."""

    alpha: float = Field(
        default=0.02, gt=0, lt=1, description="false-alarm rate per window (the target is 0.05)"
    )
    draws: int = Field(default=4000, ge=200, description="bootstrap draws per feature and window size")
    min_rows: int = Field(default=30, ge=1, description="fewer non-missing rows: not computable")
    seed: int = 20240601
    eps: float = Field(default=1e-4, gt=0)
    min_effect: bool = Field(
        default=True, description="require a material effect (min_ks / min_w) besides significance"
    )
    min_ks: float = Field(default=0.03, ge=0, le=1, description="KS (CDF gap) floor for a numeric breach")
    min_w: float = Field(default=0.05, ge=0, description="Cohen's w = sqrt(chi2 / m) floor for chi2")
    min_scale: float = Field(
        default=0.06, ge=0, description="floor of the scale gap, in reference score standard deviations"
    )


def calibrated_drift(
    profile: ReferenceProfile,
    current: pd.DataFrame,
    features: list[str] | None = None,
    policy: CalibrationPolicy | None = None,
) -> DriftReport:
    """Per-feature drift of ``current`` against ``profile`` with calibrated thresholds."""
    policy = policy or CalibrationPolicy()
    if not isinstance(current, pd.DataFrame):
        raise InvalidInput(
            f"current must be a DataFrame or a .parquet/.csv path, got {type(current).__name__}"
        )
    if len(current) == 0:
        raise InvalidInput("the current window has no rows; drift needs at least one row")
    names = list(profile.features) if features is None else list(features)
    for col in names:
        if col not in profile.features:
            raise InvalidInput(
                f"feature {col!r} is not in the reference profile ({', '.join(profile.features)})"
            )
        if col not in current.columns:
            raise InvalidInput(
                f"feature {col!r} is in the reference but missing from the current window; "
                "log it with the predictions or pass features= without it"
            )
    if not names:
        raise InvalidInput("no feature columns to check")
    tests = sum(3 if profile.features[c].kind == "numeric" else 1 for c in names)
    alpha_each = policy.alpha / tests
    results = {col: _feature(col, profile.features[col], current[col], alpha_each, policy) for col in names}
    return DriftReport(
        drift_detected=any(f.drifted for f in results.values()),
        features=results,
        rule="calibrated",
        alpha=policy.alpha,
        window_rows=len(current),
    )


def _feature(
    col: str,
    fp: FeatureProfile,
    series: pd.Series,
    alpha_each: float,
    policy: CalibrationPolicy,
) -> FeatureDrift:
    ref = np.asarray(fp.counts, dtype=np.float64)
    cur, unseen = window_cells(fp, col, series)
    cur = cur.astype(np.float64)
    m = int(cur.sum())
    n_ref_values, n_cur_values = int(ref[:-1].sum()), int(cur[:-1].sum())
    miss_ref = fp.missing / fp.n if fp.n else 0.0
    miss_cur = float(cur[-1] / m) if m else 0.0
    base: dict[str, Any] = {
        "kind": fp.kind,
        "method": "ks" if fp.kind == "numeric" else "chi2",
        "psi": _psi(ref, cur, policy.eps) if m and ref.sum() else 0.0,
        "js_distance": _js(ref, cur) if m and ref.sum() else 0.0,
        "missing_rate_reference": miss_ref,
        "missing_rate_current": miss_cur,
        "missing_p_value": _two_proportions(fp.missing, fp.n, int(cur[-1]), m),
        "n_reference": n_ref_values,
        "n_current": n_cur_values,
    }
    if fp.kind == "categorical":
        base["unseen_categories"] = unseen
        base["unseen_rate"] = float(cur[-2] / max(n_cur_values, 1)) if fp.known_levels is not None else None
    blocked = not_computable(m, n_ref_values, n_cur_values, policy.min_rows)
    if blocked:
        return FeatureDrift(
            **base,
            statistic=0.0,
            p_value=1.0,
            threshold=0.0,
            drifted=False,
            status="not_computable",
            reasons=[blocked],
        )
    probs = _smoothed(ref)
    chi2 = float(_pearson(cur, m * probs))
    shape, scale, kappa, scale_sd = _calibration(fp, m, policy)
    chi2_thr = _gamma_isf(alpha_each, shape, scale)
    checks = {
        "chi2": {
            "statistic": chi2,
            "threshold": chi2_thr,
            "p_value": _gamma_sf(chi2, shape, scale),
            "effect": math.sqrt(float(_pearson(cur, m * probs, floor=0.0)) / m),
            "min_effect": policy.min_w if policy.min_effect else 0.0,
        }
    }
    ks_ok = fp.kind == "numeric" and n_ref_values > 0 and n_cur_values >= policy.min_rows and len(ref) > 2
    if ks_ok:
        ks = _ks_binned(cur[None, :-1], ref[None, :-1])[0]
        n_eff = kappa * n_cur_values * n_ref_values / (n_cur_values + n_ref_values)
        ks_thr = math.sqrt(math.log(2 / alpha_each) / (2 * n_eff))
        checks["ks"] = {
            "statistic": float(ks),
            "threshold": ks_thr,
            "p_value": min(1.0, 2 * math.exp(-2 * n_eff * ks**2)),
            "effect": float(ks),
            "min_effect": policy.min_ks if policy.min_effect else 0.0,
        }
        scores, score_sd = _mood_scores(ref)
        if scale_sd > 0 and score_sd > 0:
            gap = float(cur[:-1] @ scores / n_cur_values - ref[:-1] @ scores / n_ref_values)
            checks["scale"] = {
                "statistic": abs(gap),
                "threshold": _normal_isf(alpha_each / 2) * scale_sd,
                "p_value": math.erfc(abs(gap) / scale_sd / math.sqrt(2)),
                "effect": abs(gap) / score_sd,
                "min_effect": policy.min_scale if policy.min_effect else 0.0,
                "difference": gap,
            }
    significant = {name: c for name, c in checks.items() if c["statistic"] > c["threshold"]}
    reasons = [
        f"{name} {c['statistic']:.4g} > calibrated {c['threshold']:.4g}"
        for name, c in significant.items()
        if c["effect"] >= c["min_effect"]
    ]
    suppressed = [
        f"{name} {c['statistic']:.4g} > calibrated {c['threshold']:.4g} but effect "
        f"{c['effect']:.4g} < min_effect {c['min_effect']:.4g}"
        for name, c in significant.items()
        if c["effect"] < c["min_effect"]
    ]
    primary = checks["ks" if ks_ok else "chi2"]
    return FeatureDrift(
        **(base | {"method": "ks" if ks_ok else "chi2"}),
        statistic=primary["statistic"],
        p_value=min(1.0, min(c["p_value"] for c in checks.values()) * len(checks)),
        threshold=primary["threshold"],
        drifted=bool(reasons),
        reasons=reasons,
        suppressed=suppressed,
        effect_size=primary["effect"],
        min_effect=primary["min_effect"],
        checks=checks,
    )


def _smoothed(counts: np.ndarray) -> np.ndarray:
    # Half a count per cell: a cell empty in the reference (no missing values, no rare levels) keeps a
    # finite expectation, so values appearing there raise chi-square instead of dividing by zero.
    return (counts + 0.5) / (counts.sum() + 0.5 * counts.size)


def _bucket(m: int) -> int:
    return max(1, round(2 ** (round(8 * math.log2(max(m, 1))) / 8)))


def _calibration(fp: FeatureProfile, m: int, policy: CalibrationPolicy) -> tuple[float, float, float, float]:
    """(gamma shape, gamma scale at ``m``, KS n_eff ratio, scale-gap sd at ``m``) for the feature."""
    m_cal = _bucket(m)
    # Keyed by the cell counts, not the feature: continuous features of one reference have equal-frequency
    # bins, so a frame of 1,000 such columns needs one simulation per window size, not 1,000.
    key = (fp.kind, tuple(fp.counts), m_cal, policy.draws, policy.seed)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is None:
        hit = _simulate(fp, m_cal, policy)
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = hit
    shape, scale, kappa, scale_sd = hit
    n = max(fp.n, 1)
    # Var(window mean - reference mean) ~ sigma^2 (1/m + 1/n): rescale the bucket's sd to the exact size.
    scale_sd *= math.sqrt((1 / max(m, 1) + 1 / n) / (1 / m_cal + 1 / n))
    return shape, scale * (1 + m / n) / (1 + m_cal / n), kappa, scale_sd


def _simulate(fp: FeatureProfile, m: int, policy: CalibrationPolicy) -> tuple[float, float, float, float]:
    ref = np.asarray(fp.counts, dtype=np.float64)
    n = int(ref.sum())
    p = _smoothed(ref)
    rng = np.random.default_rng([policy.seed, m, len(ref)])
    p = p / p.sum()
    ref_draws = rng.multinomial(max(n, 1), p, size=policy.draws).astype(np.float64)
    cur_draws = rng.multinomial(m, p, size=policy.draws).astype(np.float64)
    q = _smoothed_rows(ref_draws)
    chi2 = _pearson(cur_draws, m * q)
    mean, var = float(chi2.mean()), float(chi2.var())
    shape, scale = (mean**2 / var, var / mean) if var > 0 and mean > 0 else (1.0, max(mean, 1e-9))
    kappa, scale_sd = 1.0, 0.0
    if fp.kind == "numeric" and len(ref) > 2:
        values_cur, values_ref = cur_draws[:, :-1], ref_draws[:, :-1]
        ok = (values_cur.sum(axis=1) > 0) & (values_ref.sum(axis=1) > 0)
        if ok.sum() >= 100:
            d = _ks_binned(values_cur[ok], values_ref[ok])
            n1, n2 = values_cur[ok].sum(axis=1), values_ref[ok].sum(axis=1)
            nominal = float(np.median(n1 * n2 / (n1 + n2)))
            q99 = float(np.quantile(d, 0.99))
            # Binned D is discrete and below the continuous one; fit n_eff where the tail starts.
            kappa = math.log(2 / 0.01) / (2 * q99**2) / nominal if q99 > 0 else 1.0
            scores, _ = _mood_scores(ref)
            gaps = values_cur[ok] @ scores / n1 - values_ref[ok] @ scores / n2
            scale_sd = float(gaps.std())
    return shape, scale, kappa, scale_sd


def _mood_scores(counts: np.ndarray) -> tuple[np.ndarray, float]:
    """Mood's score ``(u - 1/2)^2`` of each value cell (``u``: its mid reference quantile), and its sd."""
    values = counts[:-1]
    total = values.sum()
    if total <= 0:
        return np.zeros_like(values), 0.0
    upper = np.cumsum(values) / total
    mid = upper - values / total / 2
    scores = (mid - 0.5) ** 2
    shares = values / total
    mean = float(shares @ scores)
    return scores, math.sqrt(max(float(shares @ scores**2) - mean**2, 0.0))


def _normal_isf(p: float) -> float:
    from scipy import special

    return float(-special.ndtri(p))


def _pearson(observed: np.ndarray, expected: np.ndarray, floor: float = 5.0) -> Any:
    # A floor of 5 expected counts (the textbook chi-square rule) bounds what one count in a cell that is
    # (nearly) empty in the reference adds, so the null stays gamma-shaped and thresholds stay sharp.
    # The effect size uses floor=0 (expected counts are smoothed, never zero): w must not depend on m.
    return ((observed - expected) ** 2 / np.maximum(expected, floor)).sum(axis=-1)


def _smoothed_rows(counts: np.ndarray) -> np.ndarray:
    return (counts + 0.5) / (counts.sum(axis=1, keepdims=True) + 0.5 * counts.shape[1])


def _ks_binned(cur: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Largest CDF gap per row between value-cell counts ``cur`` and ``ref`` (rows: windows)."""
    cdf_cur = np.cumsum(cur, axis=1) / np.maximum(cur.sum(axis=1, keepdims=True), 1)
    cdf_ref = np.cumsum(ref, axis=1) / np.maximum(ref.sum(axis=1, keepdims=True), 1)
    return np.abs(cdf_cur - cdf_ref).max(axis=1)


def _gamma_isf(alpha: float, shape: float, scale: float) -> float:
    from scipy import special

    return float(special.gammainccinv(shape, alpha) * scale)


def _gamma_sf(x: float, shape: float, scale: float) -> float:
    from scipy import special

    return float(special.gammaincc(shape, x / scale))


def _two_proportions(x1: int, n1: int, x2: int, n2: int) -> float:
    if n1 == 0 or n2 == 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


def clear_cache() -> None:
    """Forget cached calibrations (tests and benchmarks)."""
    with _CACHE_LOCK:
        _CACHE.clear()
