"""Per-feature drift between a reference window and a current window (vectorised numpy/scipy).

Column kinds come from the reference:

* ``categorical``: object, string, category and bool columns, and numeric columns whose reference values
  are integral with at most ``DriftPolicy.max_categories`` distinct values (counts and flags: KS is
  conservative on so many ties and quantile bins collapse). Tested with chi-square on the 2 x K table of
  category frequencies (categories never seen in the reference are kept as their own cells) and PSI.
* ``numeric``: every other number column. Two-sample KS (the same statistic and p-value as
  ``scipy.stats.ks_2samp``), PSI and Jensen-Shannon distance on 10 reference-quantile bins.
* Datetime columns are not features: they are skipped when ``features`` is not given.

Missing values (None, NaN, +-inf) are left out of the distributions and checked on their own: a change of
the missing rate is a drift too (a feature pipeline that starts returning nulls).

Decision rule (issue 2; calibrated per-feature bands will replace ``DriftPolicy.judge``): with ``n``
features tested and ``threshold = alpha / n`` (Bonferroni), a feature drifts when ``PSI >= psi_alarm``,
or the primary test's ``p_value < threshold`` *and* the effect is material (KS statistic >= ks_material for
numeric, PSI >= psi_material for categorical), or the missing rate moved by >= missing_material with a
two-proportion p-value < threshold. The effect-size floor keeps large windows from alarming on trivial
differences that are merely significant. PSI's null expectation is about (bins - 1) * (1/n_ref + 1/n_cur),
so windows of a few hundred rows or less can reach psi_alarm by chance.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from shipyard.errors import InvalidInput

Kind = Literal["numeric", "categorical"]
# scipy.stats.ks_2samp's 'auto' mode computes the exact p-value up to this sample size; so do we.
_KS_EXACT_MAX_N = 10_000
_MAX_LISTED_UNSEEN = 20
_PARALLEL_MIN_CELLS = 2_000_000


class DriftPolicy(BaseModel):
    """Thresholds of the drift decision; the defaults are the issue-2 rule."""

    alpha: float = Field(default=0.01, gt=0, lt=1)
    psi_alarm: float = Field(default=0.2, gt=0)
    psi_material: float = Field(default=0.1, ge=0)
    ks_material: float = Field(default=0.1, ge=0, le=1)
    missing_material: float = Field(default=0.05, ge=0, le=1)
    bins: int = Field(default=10, ge=2)
    eps: float = Field(default=1e-4, gt=0)
    max_categories: int = Field(default=20, ge=1)
    min_rows: int = Field(default=30, ge=1, description="a smaller current window is not computable")

    def judge(self, kind: Kind, stats: dict[str, Any], threshold: float) -> list[str]:
        """The reasons a feature drifted (empty: it did not)."""
        reasons = []
        if stats["psi"] >= self.psi_alarm:
            reasons.append(f"psi >= {self.psi_alarm}")
        effect, floor = ("statistic", self.ks_material) if kind == "numeric" else ("psi", self.psi_material)
        if stats["p_value"] < threshold and stats[effect] >= floor:
            name = "ks statistic" if kind == "numeric" else "psi"
            reasons.append(f"p_value < {threshold:.3g} and {name} >= {floor}")
        moved = abs(stats["missing_rate_current"] - stats["missing_rate_reference"])
        if stats["missing_p_value"] < threshold and moved >= self.missing_material:
            reasons.append(f"missing rate moved by {moved:.3f} (>= {self.missing_material})")
        return reasons


class FeatureDrift(BaseModel):
    """Drift of one feature; ``statistic``/``p_value`` are the primary test's, compared with ``threshold``."""

    kind: Kind
    method: Literal["ks", "chi2"]
    statistic: float
    p_value: float
    threshold: float = Field(description="significance level the p_value is compared with (alpha / n)")
    drifted: bool
    psi: float
    js_distance: float
    missing_rate_reference: float
    missing_rate_current: float
    missing_p_value: float
    n_reference: int
    n_current: int
    reasons: list[str] = Field(default_factory=list)
    unseen_categories: list[str] | None = None
    unseen_rate: float | None = None
    status: Literal["ok", "not_computable"] = "ok"
    effect_size: float | None = Field(
        default=None, description="calibrated rule: the primary check's effect (KS gap or Cohen's w)"
    )
    min_effect: float | None = Field(default=None, description="calibrated rule: the floor it must reach")
    suppressed: list[str] | None = Field(
        default=None, description="calibrated rule: significant changes below the minimum effect size"
    )
    checks: dict[str, dict[str, float]] | None = Field(
        default=None, description="calibrated rule: each statistic with its calibrated threshold and p-value"
    )


class DriftReport(BaseModel):
    """Drift of every feature checked; ``drift_detected`` when any of them drifted."""

    drift_detected: bool
    features: dict[str, FeatureDrift]
    rule: Literal["classic", "calibrated"] = "classic"
    alpha: float | None = None
    window_rows: int | None = None

    @property
    def drifted_features(self) -> list[str]:
        return [name for name, f in self.features.items() if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md drift contract: ``{"drift_detected", "features": {col: {...}}}``."""
        out: dict[str, Any] = {
            "drift_detected": self.drift_detected,
            "features": {name: f.model_dump(exclude_none=True) for name, f in self.features.items()},
        }
        if self.rule == "calibrated":  # the classic rule keeps the exact issue-2 document
            out |= {"rule": self.rule, "alpha": self.alpha, "window_rows": self.window_rows}
        return out


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str] | None = None,
    policy: DriftPolicy | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` feature by feature; bad input raises ``InvalidInput``."""
    policy = policy or DriftPolicy()
    columns = _select_features(reference, current, features)
    threshold = policy.alpha / len(columns)
    pairs = [(col, reference[col], current[col]) for col in columns]

    def stats_of(pair: tuple[str, pd.Series, pd.Series]) -> tuple[Kind, dict[str, Any]]:
        return _column_stats(*pair, policy)

    # numpy's sorts and searches release the GIL, so columns of a large window run side by side.
    workers = min(len(columns), os.cpu_count() or 1, 8)
    if workers > 1 and (len(reference) + len(current)) * len(columns) >= _PARALLEL_MIN_CELLS:
        with ThreadPoolExecutor(workers, thread_name_prefix="shipyard-drift") as pool:
            computed = list(pool.map(stats_of, pairs))
    else:
        computed = [stats_of(pair) for pair in pairs]
    results = {}
    for col, (kind, stats) in zip(columns, computed, strict=True):
        blocked = not_computable(len(current), stats["n_reference"], stats["n_current"], policy.min_rows)
        reasons = [blocked] if blocked else policy.judge(kind, stats, threshold)
        results[col] = FeatureDrift(
            kind=kind,
            method="ks" if kind == "numeric" else "chi2",
            threshold=threshold,
            drifted=bool(reasons) and not blocked,
            reasons=reasons,
            status="not_computable" if blocked else "ok",
            **stats,
        )
    return DriftReport(drift_detected=any(f.drifted for f in results.values()), features=results)


def not_computable(rows: int, ref_values: int, cur_values: int, min_rows: int) -> str:
    """Why a feature cannot be judged in a window of ``rows`` rows ('' when it can)."""
    if rows < min_rows:
        return f"only {rows} rows in the window; at least {min_rows} are needed"
    if ref_values == 0 and cur_values == 0:
        return "no values in either window (all missing, NaN or inf); nothing to compare"
    return ""


def _select_features(reference: pd.DataFrame, current: pd.DataFrame, features: list[str] | None) -> list[str]:
    for role, frame in (("reference", reference), ("current", current)):
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(
                f"{role} must be a DataFrame or a .parquet/.csv path, got {type(frame).__name__}"
            )
        if len(frame) == 0:
            raise InvalidInput(f"the {role} window has no rows; drift needs at least one row on each side")
        if not frame.columns.is_unique:
            dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise InvalidInput(f"the {role} window has duplicate columns: {', '.join(dupes)}")
    if features is None:
        columns = [c for c in reference.columns if not _is_time(reference[c])]
    else:
        if isinstance(features, str) or not all(isinstance(c, str) for c in features):
            raise InvalidInput("features must be a list of column names")
        if len(set(features)) != len(features):
            raise InvalidInput(f"features lists a column twice: {features}")
        columns = list(features)
    if not columns:
        raise InvalidInput("no feature columns to check: pass features, or a reference with non-time columns")
    for col in columns:
        if col not in reference.columns:
            raise InvalidInput(f"feature {col!r} is not a column of the reference window")
        if col not in current.columns:
            raise InvalidInput(
                f"feature {col!r} is in the reference but missing from the current window; "
                "log it with the predictions or pass features= without it"
            )
        if _is_time(reference[col]):
            raise InvalidInput(f"column {col!r} holds timestamps; drift is checked on feature columns only")
    return columns


def _is_time(series: pd.Series) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series))


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _column_stats(
    col: str, ref: pd.Series, cur: pd.Series, policy: DriftPolicy
) -> tuple[Kind, dict[str, Any]]:
    if _is_numeric(ref):
        ref_all = _floats(ref, col, "reference")
        cur_all = _floats(cur, col, "current")
        ref_ok, cur_ok = np.isfinite(ref_all), np.isfinite(cur_all)
        ref_sorted = np.sort(_kept(ref_all, ref_ok))
        if not _few_integers(ref_sorted, policy.max_categories):
            stats = _numeric(ref_sorted, np.sort(_kept(cur_all, cur_ok)), policy)
            return "numeric", stats | _missing(ref_ok, cur_ok)
        ref_values, cur_values = pd.Series(ref_sorted), pd.Series(_kept(cur_all, cur_ok))
    else:
        ref_ok, cur_ok = ref.notna().to_numpy(), cur.notna().to_numpy()
        ref_values, cur_values = ref[ref_ok].astype(str), cur[cur_ok].astype(str)
    stats = _categorical(ref_values.value_counts(sort=False), cur_values.value_counts(sort=False), policy)
    return "categorical", stats | _missing(ref_ok, cur_ok)


def _kept(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    return values if ok.all() else values[ok]


def _few_integers(ref_sorted: np.ndarray, max_categories: int) -> bool:
    """Whether sorted reference values are integral with at most ``max_categories`` distinct values."""
    # A strided sample rejects continuous columns without a pass over all of them.
    sample = ref_sorted[:: max(1, ref_sorted.size // 1000)]
    if not np.array_equal(sample, np.round(sample)):
        return False
    distinct = int(np.count_nonzero(ref_sorted[1:] != ref_sorted[:-1])) + 1 if ref_sorted.size else 0
    return distinct <= max_categories and np.array_equal(ref_sorted, np.round(ref_sorted))


def _floats(series: pd.Series, col: str, role: str) -> np.ndarray:
    if not _is_numeric(series):
        try:
            series = pd.to_numeric(series, errors="raise")
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"column {col!r} is numeric in the reference but the {role} window holds non-numbers ({exc})"
            ) from exc
    if isinstance(series.dtype, np.dtype):  # plain numpy column: no copy when it already is float64
        return series.to_numpy(dtype=np.float64)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric(ref: np.ndarray, cur: np.ndarray, policy: DriftPolicy) -> dict[str, Any]:
    """KS, PSI and JS on sorted, finite samples."""
    n1, n2 = ref.size, cur.size
    out: dict[str, Any] = {"n_reference": n1, "n_current": n2}
    if n1 == 0 or n2 == 0:
        return out | {"statistic": 0.0, "p_value": 1.0, "psi": 0.0, "js_distance": 0.0}
    statistic, p_value = _ks(ref, cur)
    # Inner edges at the reference quantiles; ties merge bins. Bins are (e_i, e_i+1], counted by bisection.
    positions = (n1 - 1) * np.arange(1, policy.bins) / policy.bins
    lo = np.floor(positions).astype(np.int64)
    hi = np.minimum(lo + 1, n1 - 1)
    edges = np.unique(ref[lo] + (positions - lo) * (ref[hi] - ref[lo]))
    ref_counts = np.diff(np.concatenate(([0], np.searchsorted(ref, edges, "right"), [n1])))
    cur_counts = np.diff(np.concatenate(([0], np.searchsorted(cur, edges, "right"), [n2])))
    return out | {
        "statistic": statistic,
        "p_value": p_value,
        "psi": _psi(ref_counts, cur_counts, policy.eps),
        "js_distance": _js(ref_counts, cur_counts),
    }


def _ks(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """Two-sided two-sample KS of sorted samples, as ``scipy.stats.ks_2samp`` (method 'auto') computes it."""
    from scipy import stats

    n1, n2 = ref.size, cur.size
    if max(n1, n2) <= _KS_EXACT_MAX_N:
        result = stats.ks_2samp(ref, cur)
        return float(result.statistic), float(result.pvalue)
    # Merging two sorted runs is linear for the stable sort; integer steps keep the ECDF gap exact.
    merged = np.concatenate((ref, cur))
    order = np.argsort(merged, kind="stable")
    gap = np.cumsum(np.where(order < n1, n2, -n1))
    merged = merged[order]
    last_of_ties = np.append(merged[1:] != merged[:-1], True)
    statistic = float(np.abs(gap[last_of_ties]).max()) / (n1 * n2)
    m, n = max(n1, n2), min(n1, n2)
    p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(m * n / (m + n))), 0.0, 1.0))
    return statistic, p_value


def _categorical(ref_counts: pd.Series, cur_counts: pd.Series, policy: DriftPolicy) -> dict[str, Any]:
    """Chi-square test of homogeneity on the 2 x K frequency table, PSI and JS over the same categories."""
    from scipy import stats

    categories = ref_counts.index.union(cur_counts.index)
    r = ref_counts.reindex(categories, fill_value=0).to_numpy(dtype=np.float64)
    c = cur_counts.reindex(categories, fill_value=0).to_numpy(dtype=np.float64)
    n1, n2 = int(r.sum()), int(c.sum())
    unseen = [k for k, in_ref in zip(categories, r > 0, strict=True) if not in_ref]
    out: dict[str, Any] = {
        "n_reference": n1,
        "n_current": n2,
        "unseen_categories": [_label(k) for k in unseen[:_MAX_LISTED_UNSEEN]],
        "unseen_rate": float(c[r == 0].sum() / n2) if n2 else 0.0,
    }
    if n1 == 0 or n2 == 0 or len(categories) < 2:
        return out | {"statistic": 0.0, "p_value": 1.0, "psi": 0.0, "js_distance": 0.0}
    table = np.vstack((r, c))
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return out | {
        "statistic": statistic,
        "p_value": float(stats.chi2.sf(statistic, len(categories) - 1)),
        "psi": _psi(r, c, policy.eps),
        "js_distance": _js(r, c),
    }


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _psi(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float) -> float:
    p = np.clip(ref_counts / ref_counts.sum(), eps, None)
    q = np.clip(cur_counts / cur_counts.sum(), eps, None)
    return float(np.sum((q - p) * np.log(q / p)))


def _js(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]); the same value as ``scipy.spatial.distance.jensenshannon``."""
    p = ref_counts / ref_counts.sum()
    q = cur_counts / cur_counts.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / m), 0.0) + np.where(q > 0, q * np.log2(q / m), 0.0)
    return math.sqrt(max(float(terms.sum()) / 2, 0.0))


def _missing(ref_ok: np.ndarray, cur_ok: np.ndarray) -> dict[str, Any]:
    """Missing rates and the two-proportion z-test p-value of their difference."""
    from scipy import stats

    n1, n2 = ref_ok.size, cur_ok.size
    m1, m2 = n1 - int(np.count_nonzero(ref_ok)), n2 - int(np.count_nonzero(cur_ok))
    pooled = (m1 + m2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        p_value = 1.0
    else:
        z = (m2 / n2 - m1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p_value = float(2 * stats.norm.sf(abs(z)))
    return {"missing_rate_reference": m1 / n1, "missing_rate_current": m2 / n2, "missing_p_value": p_value}
