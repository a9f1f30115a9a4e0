"""Seed a hyper-parameter search with the best configurations of similar past experiments.

A dataset is profiled (rows, columns, types, target balance, task); past searches in the workspace's MLflow
history carry their profile, so the nearest ones by profile distance propose their best configs as the
first trials, each with the reason (which run, how similar).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput
from shipyard.gpu_runtime.search_space import fit_to_space

if TYPE_CHECKING:
    import pandas as pd

_MAX_CLASSES = 20


@dataclass(frozen=True)
class DatasetProfile:
    """The shape of a training frame that decides which past experiments are comparable."""

    rows: int
    columns: int
    numeric_columns: int
    categorical_columns: int
    task: str
    n_classes: int
    minority_fraction: float
    missing_fraction: float

    def vector(self) -> list[float]:
        """Features for the distance between two profiles (log scale for sizes)."""
        return [
            math.log10(max(self.rows, 1)),
            math.log10(max(self.columns, 1)),
            self.numeric_columns / max(self.columns, 1),
            2.0 * self.minority_fraction,
            math.log2(max(self.n_classes, 1)) / 2.0,
            self.missing_fraction,
        ]

    def to_json(self) -> str:
        """The profile as the tag value stored on a search's MLflow run."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatasetProfile | None:
        """A profile from a tag value, or None if the tag is missing or malformed."""
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class PastExperiment:
    """A finished search in the workspace's history: its profile and its best configuration."""

    run_id: str
    name: str
    profile: DatasetProfile
    best_config: dict[str, Any]
    best_score: float


@dataclass(frozen=True)
class SeedTrial:
    """A configuration proposed as an early trial, and why."""

    config: dict[str, Any]
    source_run_id: str
    source_name: str
    similarity: float
    past_score: float
    why: str


def profile_frame(frame: pd.DataFrame, target: str) -> DatasetProfile:
    """Profile ``frame`` for predicting ``target``; the task is inferred from the target column."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InvalidInput("training frame must be a non-empty pandas DataFrame")
    if target not in frame.columns:
        raise InvalidInput(
            f"target {target!r} is not a column of the frame (columns: {list(frame.columns)[:20]})"
        )
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise InvalidInput(f"the frame has no feature columns besides target {target!r}")
    numeric = features.select_dtypes("number").shape[1]
    y = frame[target].dropna()
    if y.empty:
        raise InvalidInput(f"target {target!r} has no values")
    integral = (
        pd.api.types.is_bool_dtype(y)
        or pd.api.types.is_integer_dtype(y)
        or not pd.api.types.is_numeric_dtype(y)
    )
    n_unique = int(y.nunique())
    if integral and n_unique <= _MAX_CLASSES:
        task = "binary" if n_unique <= 2 else "multiclass"
        counts = y.value_counts(normalize=True)
        minority, n_classes = float(counts.min()), n_unique
    else:
        task, minority, n_classes = "regression", 0.0, 1
    return DatasetProfile(
        rows=len(frame),
        columns=features.shape[1],
        numeric_columns=numeric,
        categorical_columns=features.shape[1] - numeric,
        task=task,
        n_classes=n_classes,
        minority_fraction=round(minority, 4),
        missing_fraction=round(float(features.isna().to_numpy().mean()), 4),
    )


def similarity(a: DatasetProfile, b: DatasetProfile) -> float:
    """1.0 for identical profiles, toward 0 as they differ; 0 across classification/regression."""
    if (a.task == "regression") != (b.task == "regression"):
        return 0.0
    distance = math.dist(a.vector(), b.vector()) + (0.5 if a.task != b.task else 0.0)
    return round(math.exp(-distance), 4)


def propose_seeds(
    profile: DatasetProfile,
    history: list[PastExperiment],
    space: dict[str, dict[str, list[Any]]],
    k: int = 3,
    min_similarity: float = 0.05,
) -> list[SeedTrial]:
    """Up to ``k`` best configs of the most similar past experiments, fitted into ``space``."""
    ranked = sorted(((similarity(profile, p.profile), p) for p in history), key=lambda t: -t[0])
    seeds: list[SeedTrial] = []
    seen: set[str] = set()
    for sim, past in ranked:
        if sim < min_similarity or len(seeds) >= k:
            break
        config = fit_to_space(past.best_config, space)
        key = json.dumps(config, sort_keys=True)
        if not config or key in seen:
            continue
        seen.add(key)
        seeds.append(
            SeedTrial(
                config=config,
                source_run_id=past.run_id,
                source_name=past.name,
                similarity=sim,
                past_score=past.best_score,
                why=(
                    f"best config of past search {past.name!r} (run {past.run_id[:8]}, score "
                    f"{past.best_score:.4f}) on a {past.profile.task} dataset of {past.profile.rows} rows x "
                    f"{past.profile.columns} columns; profile similarity {sim:.2f}"
                ),
            )
        )
    return seeds
