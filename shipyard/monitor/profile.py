"""Reference profiles: what the training frame looked like, per feature, in a form drift checks bin against.

A profile is captured once (at deploy time) and stored as JSON, so later checks need neither the training
frame nor MLflow. Each feature becomes a fixed set of *cells*:

* numeric: ``bins`` reference-quantile bins (ties merge bins) + one cell for missing (None, NaN, +-inf);
* categorical: the most frequent levels (at most ``top_levels``, each >= ``min_level_share`` of the
  reference) + ``__other__`` (rarer and unseen levels) + missing.

A window is then summarised by its cell counts, which is all the calibrated drift test needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from shipyard.errors import InvalidInput, NotFound

Kind = Literal["numeric", "categorical"]
OTHER = "__other__"
MISSING = "__missing__"
_MAX_KNOWN_LEVELS = 10_000  # beyond this the level set is not stored, so unseen levels cannot be listed


class FeatureProfile(BaseModel):
    """One feature's reference distribution as cells (see the module docstring)."""

    kind: Kind
    n: int = Field(description="reference rows, missing included")
    missing: int
    edges: list[float] = Field(default_factory=list, description="numeric: inner bin edges, ascending")
    levels: list[str] = Field(default_factory=list, description="categorical: levels with their own cell")
    counts: list[int] = Field(description="reference count per cell; the last cell is missing")
    known_levels: list[str] | None = Field(default=None, description="every reference level, if few enough")
    summary: dict[str, float] = Field(default_factory=dict)

    @property
    def cell_names(self) -> list[str]:
        """Human names of the cells, in ``counts`` order."""
        if self.kind == "numeric":
            bounds = ["-inf", *(f"{e:.6g}" for e in self.edges), "inf"]
            return [f"({a}, {b}]" for a, b in zip(bounds, bounds[1:], strict=False)] + [MISSING]
        return [*self.levels, OTHER, MISSING]


class ReferenceProfile(BaseModel):
    """Profiles of every monitored feature of one deployment's training reference."""

    deployment: str = ""
    source: str = Field(default="", description="the reference file profiled, when it was a file")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    features: dict[str, FeatureProfile]

    @property
    def fingerprint(self) -> str:
        """A stable hash of the cells and counts (keys calibration caches)."""
        payload = {
            k: f.model_dump(include={"kind", "edges", "levels", "counts"}) for k, f in self.features.items()
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def save(self, path: Path) -> Path:
        """Write the profile as JSON (atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temp name per writer: concurrent passes may profile the same deployment at once (last one wins).
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_text(self.model_dump_json(indent=1))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> ReferenceProfile:
        """Read a profile written by ``save``; errors name the path."""
        if not path.exists():
            raise NotFound(f"no reference profile at {path}; capture one with capture_reference_profile")
        try:
            return cls.model_validate_json(path.read_text())
        except ValueError as exc:
            raise InvalidInput(f"reference profile {path} is not valid: {exc}") from exc


def build_profile(
    reference: pd.DataFrame,
    features: list[str] | None = None,
    *,
    deployment: str = "",
    bins: int = 20,
    top_levels: int = 50,
    min_level_share: float = 0.002,
    max_categories: int = 20,
) -> ReferenceProfile:
    """Profile ``reference`` (every non-time column, or ``features``)."""
    from shipyard.monitor.drift import _select_features

    columns = _select_features(reference, reference, features)
    profiles = {
        col: _profile(col, reference[col], bins, top_levels, min_level_share, max_categories)
        for col in columns
    }
    return ReferenceProfile(deployment=deployment, features=profiles)


def _profile(
    col: str, series: pd.Series, bins: int, top_levels: int, min_share: float, max_categories: int
) -> FeatureProfile:
    from shipyard.monitor.drift import _few_integers, _floats, _is_numeric, _label

    n = len(series)
    if _is_numeric(series):
        values = _floats(series, col, "reference")
        ok = np.isfinite(values)
        finite = np.sort(values[ok])
        missing = int(n - finite.size)
        if not _few_integers(finite, max_categories):
            edges = _quantile_edges(finite, bins)
            counts = np.diff(np.concatenate(([0], np.searchsorted(finite, edges, "right"), [finite.size])))
            summary = _summary(finite)
            return FeatureProfile(
                kind="numeric",
                n=n,
                missing=missing,
                edges=edges.tolist(),
                counts=[*counts.tolist(), missing],
                summary=summary,
            )
        level_counts = pd.Series(finite).value_counts()
        level_counts.index = [_label(v) for v in level_counts.index]
    else:
        present = series[series.notna()]
        missing = int(n - len(present))
        level_counts = present.astype(str).value_counts()
    level_counts = level_counts.sort_values(ascending=False, kind="stable")
    total = max(int(level_counts.sum()), 1)
    own = level_counts[level_counts / total >= min_share].head(top_levels)
    other = int(level_counts.sum() - own.sum())
    known = [str(k) for k in level_counts.index] if len(level_counts) <= _MAX_KNOWN_LEVELS else None
    return FeatureProfile(
        kind="categorical",
        n=n,
        missing=missing,
        levels=[str(k) for k in own.index],
        counts=[*(int(c) for c in own.to_numpy()), other, missing],
        known_levels=known,
        summary={"distinct": float(len(level_counts))},
    )


def _quantile_edges(finite: np.ndarray, bins: int) -> np.ndarray:
    if finite.size == 0:
        return np.empty(0)
    positions = (finite.size - 1) * np.arange(1, bins) / bins
    lo = np.floor(positions).astype(np.int64)
    hi = np.minimum(lo + 1, finite.size - 1)
    return np.unique(finite[lo] + (positions - lo) * (finite[hi] - finite[lo]))


def _summary(finite: np.ndarray) -> dict[str, float]:
    if finite.size == 0:
        return {}
    qs = np.quantile(finite, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    names = ["p01", "p05", "p25", "p50", "p75", "p95", "p99"]
    return {
        "min": float(finite[0]),
        "max": float(finite[-1]),
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        **{k: float(v) for k, v in zip(names, qs, strict=True)},
    }


def window_cells(profile: FeatureProfile, col: str, series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Counts of ``series`` in the profile's cells, and the levels never seen in the reference (listed <= 20)."""
    from shipyard.monitor.drift import _floats, _label

    if profile.kind == "numeric":
        values = _floats(series, col, "current")
        ok = np.isfinite(values)
        finite = values if ok.all() else values[ok]
        cell = np.searchsorted(np.asarray(profile.edges), finite, "left")
        counts = np.bincount(cell, minlength=len(profile.edges) + 1)
        return np.append(counts, values.size - finite.size), []
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = _floats(series, col, "current")
        finite = values[np.isfinite(values)]
        level_counts = pd.Series(finite).value_counts(sort=False)
        level_counts.index = [_label(v) for v in level_counts.index]
        missing = int(values.size - finite.size)
    else:
        present = series[series.notna()]
        level_counts = present.astype(str).value_counts(sort=False)
        missing = int(len(series) - len(present))
    own = level_counts.reindex(profile.levels, fill_value=0).to_numpy(dtype=np.int64)
    other = int(level_counts.sum() - own.sum())
    unseen: list[str] = []
    if profile.known_levels is not None:
        known = set(profile.known_levels)
        unseen = sorted(str(k) for k in level_counts.index if str(k) not in known)[:20]
    return np.concatenate((own, [other, missing])), unseen


def profile_payload(profile: ReferenceProfile) -> dict[str, Any]:
    """A JSON-ready view of the profile without the (possibly long) known-level lists."""
    return profile.model_dump(mode="json", exclude={"features": {"__all__": {"known_levels"}}})
