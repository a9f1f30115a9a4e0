"""Summary statistics of a feature view's offline data (its Parquet batch source)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from feast.feature_view import FeatureView

TOP_CATEGORIES = 5


@dataclass(frozen=True)
class FeatureStats:
    """Count, nulls and min/max/mean (numbers) or the most common values (anything else)."""

    count: int
    nulls: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    top: list[tuple[str, int]] = field(default_factory=list)


def source_path(view: FeatureView, repo_dir: Path) -> Path | None:
    """The local file behind the view's batch source, resolved like Feast does; None for other sources."""
    path = getattr(view.batch_source, "path", None)
    if not path or "://" in str(path):
        return None
    p = Path(path)
    return p if p.is_absolute() else repo_dir / p


def read_source(view: FeatureView, repo_dir: Path, columns: list[str]) -> pd.DataFrame | None:
    """The named columns of the view's local Parquet/CSV source, or None when it has none to read."""
    import pandas as pd

    path = source_path(view, repo_dir)
    if path is None or not path.exists():
        return None
    if path.suffix == ".csv":
        return pd.read_csv(path, usecols=columns)
    return pd.read_parquet(path, columns=columns)


def column_stats(values: pd.Series) -> FeatureStats:
    """Stats of one column."""
    import pandas as pd

    nulls = int(values.isna().sum())
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if present.empty:
            return FeatureStats(count=len(values), nulls=nulls)
        return FeatureStats(
            count=len(values),
            nulls=nulls,
            min=float(present.min()),
            max=float(present.max()),
            mean=round(float(present.mean()), 6),
        )
    counts = present.astype(str).value_counts().head(TOP_CATEGORIES)
    return FeatureStats(count=len(values), nulls=nulls, top=[(str(k), int(v)) for k, v in counts.items()])


def offline_stats(view: FeatureView, repo_dir: Path) -> dict[str, FeatureStats]:
    """Stats of every feature of ``view`` over its whole offline source ({} when it cannot be read here)."""
    names = [f.name for f in view.features]
    frame = read_source(view, repo_dir, names)
    if frame is None:
        return {}
    return {name: column_stats(frame[name]) for name in names}


def as_row(stats: FeatureStats | None) -> dict[str, Any]:
    """Stats as a flat mapping for tables (empty when unknown)."""
    if stats is None:
        return {}
    row: dict[str, Any] = {"count": stats.count, "nulls": stats.nulls}
    if stats.top:
        row["top"] = ", ".join(f"{k} ({v})" for k, v in stats.top)
    else:
        row.update({"min": stats.min, "max": stats.max, "mean": stats.mean})
    return row
