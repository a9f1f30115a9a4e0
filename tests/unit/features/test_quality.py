"""Quality checks declared in feature-view tags: parsing and evaluation on real Feast objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Int64

from shipyard.errors import InvalidInput
from shipyard.features.quality import declared_checks, run_checks

END = datetime(2026, 1, 31, tzinfo=UTC)


def _view(tags: dict[str, str]) -> FeatureView:
    return FeatureView(
        name="v",
        entities=[Entity(name="c", join_keys=["cid"])],
        ttl=timedelta(days=1),
        schema=[Field(name="x", dtype=Float32), Field(name="tier", dtype=Int64)],
        source=FileSource(path="/nowhere.parquet", timestamp_field="ts"),
        tags=tags,
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.0, None, 50.0, -3.0],
            "tier": [0, 1, 2, 7],
            "ts": pd.to_datetime(["2026-01-30"] * 4, utc=True),
        }
    )


def test_checks_are_parsed_from_tags() -> None:
    checks = declared_checks(
        _view(
            {
                "quality.x": "not_null; range=0..10",
                "quality.tier": "allowed=0|1|2",
                "quality.freshness": "2d",
                "team": "t",
            }
        )
    )
    assert [(c.feature, c.describe()) for c in checks] == [
        ("*", "freshness<=172800s"),
        ("tier", "allowed=0|1|2"),
        ("x", "not_null"),
        ("x", "range=0.0..10.0"),
    ]


def test_failures_name_feature_check_and_offending_rows() -> None:
    view = _view({"quality.x": "not_null; range=0..10", "quality.tier": "allowed=0|1|2"})
    failures = {(f.feature, f.check): f.offending_rows for f in run_checks(view, _frame(), END, "ts")}
    assert failures == {("x", "not_null"): 1, ("x", "range=0.0..10.0"): 2, ("tier", "allowed=0|1|2"): 1}


@pytest.mark.parametrize(("age", "fails"), [("2d", False), ("12h", True)])
def test_freshness(age: str, fails: bool) -> None:
    failures = run_checks(_view({"quality.freshness": age}), _frame(), END, "ts")
    assert bool(failures) is fails


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"quality.nope": "not_null"}, "has no feature 'nope'"),
        ({"quality.x": "range=5"}, "range=LOW..HIGH"),
        ({"quality.x": "between 1 and 2"}, "unknown rule"),
        ({"quality.x": "range=a..b"}, "range=LOW..HIGH"),
        ({"quality.freshness": "soon"}, "not a duration"),
    ],
)
def test_malformed_checks_are_refused_naming_the_tag(tags: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        declared_checks(_view(tags))
    assert "feature view 'v' tag" in err.value.message
