"""Data-quality gate: checks declared on a feature view run on its offline rows before materialization.

Checks are declared as feature-view tags (Feast tags are strings, so they travel through the registry):

* ``quality.<feature>``: ``;``-separated rules: ``not_null``, ``range=LOW..HIGH`` (either side may be
  empty), ``allowed=A|B|C``;
* ``quality.freshness``: the newest source row must be at most this old (``90s``, ``12h``, ``45d``) at the
  end of the materialization window.

A failing check raises ``QualityGateFailed`` before anything reaches the online store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, OperationFailed

if TYPE_CHECKING:
    import pandas as pd
    from feast.feature_view import FeatureView

PREFIX = "quality."
FRESHNESS = "freshness"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Check:
    """One declared rule: on a feature (or the view, for freshness)."""

    feature: str
    kind: str  # not_null | range | allowed | freshness
    low: float | None = None
    high: float | None = None
    allowed: tuple[str, ...] = ()
    max_age_s: float | None = None

    def describe(self) -> str:
        """The rule as written in the tag."""
        if self.kind == "range":
            return f"range={'' if self.low is None else self.low}..{'' if self.high is None else self.high}"
        if self.kind == "allowed":
            return "allowed=" + "|".join(self.allowed)
        if self.kind == "freshness":
            return f"freshness<={self.max_age_s:g}s"
        return self.kind


@dataclass(frozen=True)
class Failure:
    """A check that did not hold: which feature, which rule, how many offending rows."""

    feature_view: str
    feature: str
    check: str
    offending_rows: int
    rows_checked: int


class QualityGateFailed(OperationFailed):
    """Materialization refused: at least one declared check failed."""

    code = "quality_gate_failed"
    http_status = 422
    exit_code = 1


def declared_checks(view: FeatureView) -> list[Check]:
    """The checks declared in ``view``'s tags; ``InvalidInput`` naming the tag if one is malformed."""
    features = {f.name for f in view.features}
    checks: list[Check] = []
    for key, value in sorted((view.tags or {}).items()):
        if not key.startswith(PREFIX):
            continue
        target = key[len(PREFIX) :]
        where = f"feature view '{view.name}' tag '{key}'"
        if target == FRESHNESS:
            checks.append(Check(feature="*", kind=FRESHNESS, max_age_s=_seconds(value, where)))
            continue
        if target not in features:
            raise InvalidInput(f"{where}: the view has no feature '{target}'")
        for rule in (r.strip() for r in value.split(";")):
            if rule:
                checks.append(_rule(target, rule, where))
    return checks


def run_checks(view: FeatureView, frame: pd.DataFrame, end: datetime, timestamp_field: str) -> list[Failure]:
    """Failures of ``view``'s checks on ``frame`` (its source rows in the window ending at ``end``)."""
    import pandas as pd

    failures = []
    total = len(frame)
    for check in declared_checks(view):
        if check.kind == FRESHNESS:
            stamps = pd.to_datetime(frame[timestamp_field], utc=True) if total else pd.Series([])
            newest = stamps.max() if total else None
            age = (pd.Timestamp(end) - newest).total_seconds() if newest is not None else None
            if age is None or age > (check.max_age_s or 0):
                failures.append(Failure(view.name, "*", check.describe(), total, total))
            continue
        values = frame[check.feature]
        if check.kind == "not_null":
            bad = int(values.isna().sum())
        elif check.kind == "range":
            numeric = pd.to_numeric(values, errors="coerce")
            out = numeric.isna() & values.notna()
            if check.low is not None:
                out |= numeric < check.low
            if check.high is not None:
                out |= numeric > check.high
            bad = int(out.sum())
        else:
            present = values.dropna()
            bad = int((~present.map(_text).isin(check.allowed)).sum())
        if bad:
            failures.append(Failure(view.name, check.feature, check.describe(), bad, total))
    return failures


def gate(views: list[FeatureView], repo_dir: Path, start_of: dict[str, datetime], end: datetime) -> None:
    """Run every view's checks over its rows in ``[start_of[view], end]``; raise if any fails."""
    import pandas as pd

    from shipyard.features.stats import read_source

    failures: list[Failure] = []
    for view in views:
        checks = declared_checks(view)
        if not checks:
            continue
        if view.batch_source is None:
            continue
        ts = view.batch_source.timestamp_field
        columns = sorted({ts, *(c.feature for c in checks if c.feature != "*")})
        frame = read_source(view, repo_dir, columns)
        if frame is None:
            raise InvalidInput(
                f"feature view '{view.name}' declares quality checks but its source is not a local file"
            )
        stamps = pd.to_datetime(frame[ts], utc=True)
        window = frame[(stamps >= pd.Timestamp(start_of[view.name])) & (stamps <= pd.Timestamp(end))]
        failures.extend(run_checks(view, window, end, ts))
    if failures:
        lines = "; ".join(
            f"{f.feature_view}:{f.feature} failed {f.check} on {f.offending_rows} of {f.rows_checked} rows"
            for f in failures
        )
        raise QualityGateFailed(
            f"materialization stopped, nothing was written to the online store: {lines}. "
            "Fix the source data or the checks, then materialize again",
            detail={"failures": [f.__dict__ for f in failures]},
        )


def _rule(feature: str, rule: str, where: str) -> Check:
    name, _, arg = rule.partition("=")
    name = name.strip().lower()
    if name == "not_null" and not arg:
        return Check(feature=feature, kind="not_null")
    if name == "range":
        low, sep, high = arg.partition("..")
        try:
            if not sep:
                raise ValueError(arg)
            return Check(
                feature=feature,
                kind="range",
                low=float(low) if low.strip() else None,
                high=float(high) if high.strip() else None,
            )
        except ValueError:
            raise InvalidInput(f"{where}: rule {rule!r} must look like range=LOW..HIGH") from None
    if name == "allowed" and arg:
        return Check(feature=feature, kind="allowed", allowed=tuple(v.strip() for v in arg.split("|")))
    raise InvalidInput(f"{where}: unknown rule {rule!r}; use not_null, range=LOW..HIGH or allowed=A|B|C")


def _seconds(value: str, where: str) -> float:
    match = _DURATION.match(value.strip())
    if not match:
        raise InvalidInput(f"{where}: {value!r} is not a duration like 90s, 12h or 45d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _text(value: Any) -> str:
    """Allowed values are written as text; 1.0 and 1 both read as '1'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
