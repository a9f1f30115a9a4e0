"""Input rules of the feature service, checked without a feature store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.features.validation import (
    as_utc,
    checked_entity_df,
    checked_entity_rows,
    checked_online_frame,
    checked_refs,
    join_key_kinds,
)


@pytest.fixture(scope="module")
def view() -> Any:
    from feast import Entity, FeatureView, Field, FileSource, ValueType
    from feast.types import Float32, Int64

    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    return FeatureView(
        name="customer_activity",
        entities=[customer],
        ttl=timedelta(days=45),
        schema=[
            Field(name="customer_id", dtype=Int64),
            Field(name="txn_count_30d", dtype=Int64),
            Field(name="spend_30d", dtype=Float32),
        ],
        source=FileSource(
            path="/nowhere.parquet", timestamp_field="event_timestamp", created_timestamp_column="created"
        ),
    )


def _entity_df(**overrides: Any) -> pd.DataFrame:
    data = {"customer_id": [1, 2], "event_timestamp": ["2025-01-01", "2025-02-01"], "churned": [0, 1]}
    data.update(overrides)
    return pd.DataFrame(data)


# -- entity_df --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("column", ["customer_id", "event_timestamp"])
def test_entity_df_missing_a_required_column_names_it(column: str) -> None:
    with pytest.raises(InvalidInput, match=f"missing column '{column}'"):
        checked_entity_df(_entity_df().drop(columns=[column]), ["customer_id"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([{"customer_id": 1}], "must be a pandas DataFrame"),
        (pd.DataFrame({"customer_id": [], "event_timestamp": []}), "has no rows"),
        (_entity_df(customer_id=[1, None]), "'customer_id' is empty in row 1"),
        (_entity_df(event_timestamp=["2025-01-01", "not a date"]), "'event_timestamp' is not a timestamp"),
    ],
)
def test_bad_entity_df_is_bad_input(value: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        checked_entity_df(value, ["customer_id"])


def test_entity_df_timestamps_become_utc_and_the_input_is_not_modified() -> None:
    original = _entity_df()
    frame = checked_entity_df(original, ["customer_id"])
    assert str(frame["event_timestamp"].dtype) == "datetime64[ns, UTC]"
    assert original["event_timestamp"].tolist() == ["2025-01-01", "2025-02-01"]


@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Paris"])
def test_datetime_columns_are_converted_to_utc_without_touching_the_input(zone: str | None) -> None:
    stamps = pd.Series(pd.to_datetime(["2025-01-01 12:00", "2025-07-01 12:00"])).dt.tz_localize(zone)
    original = _entity_df(event_timestamp=stamps)
    frame = checked_entity_df(original, ["customer_id"])
    assert str(frame["event_timestamp"].dtype) == "datetime64[ns, UTC]"
    utc = stamps.dt.tz_localize("UTC") if zone is None else stamps.dt.tz_convert("UTC")
    assert frame["event_timestamp"].tolist() == utc.tolist()
    assert frame["event_timestamp"].iloc[1].hour == (10 if zone == "Europe/Paris" else 12)
    pd.testing.assert_series_equal(original["event_timestamp"], stamps, check_names=False)


# -- feature refs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "refs",
    [
        "customer_activity:spend_30d",
        [],
        None,
        ["spend_30d"],
        ["customer_activity:"],
        [":spend_30d"],
        ["a:b:c"],
        [7],
        ["customer_activity:spend_30d", "customer_activity:spend_30d"],
    ],
)
def test_malformed_feature_refs_are_bad_input(view: Any, refs: Any) -> None:
    with pytest.raises(InvalidInput):
        checked_refs(refs, {view.name: view})


@pytest.mark.parametrize(
    ("ref", "message"),
    [("nope:spend_30d", "no feature view 'nope'"), ("customer_activity:nope", "has no feature 'nope'")],
)
def test_unknown_views_and_features_are_not_found(view: Any, ref: str, message: str) -> None:
    with pytest.raises(NotFound, match=message):
        checked_refs([ref], {view.name: view})


# -- entity rows ------------------------------------------------------------------------------------------
INT_KEY = {"customer_id": "int"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"customer_id": 1}, "must be a list"),
        ([5], "entity row 0 must be an object"),
        ([{"customer_id": 1}, {"id": 2}], "entity row 1 is missing 'customer_id'"),
        ([{"customer_id": None}], "entity row 0 is missing 'customer_id'"),
        ([{"customer_id": True}], "not a valid entity key"),
        ([{"customer_id": [1]}], "not a valid entity key"),
        ([{"customer_id": 1.5}], "1.5 is not an integer"),
        ([{"customer_id": ""}], "is not an integer"),
        ([{"customer_id": "abc"}], "'abc' is not an integer"),
    ],
)
def test_bad_entity_rows_are_bad_input(rows: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        checked_entity_rows(rows, INT_KEY)


def test_entity_rows_keep_only_join_keys_and_become_integers() -> None:
    rows = [{"customer_id": np.int64(3), "request_id": "x"}, {"customer_id": 4.0}, {"customer_id": "5"}]
    assert checked_entity_rows(rows, INT_KEY) == [{"customer_id": 3}, {"customer_id": 4}, {"customer_id": 5}]


@pytest.mark.parametrize(("value", "expected"), [("abc", "abc"), (12, "12")])
def test_string_keys_accept_strings_and_integers(value: Any, expected: str) -> None:
    assert checked_entity_rows([{"user": value}], {"user": "str"}) == [{"user": expected}]


@pytest.mark.parametrize("value", ["", 1.5])
def test_string_keys_reject_other_values(value: Any) -> None:
    with pytest.raises(InvalidInput, match="not a non-empty string"):
        checked_entity_rows([{"user": value}], {"user": "str"})


def test_join_key_kinds_come_from_the_view_schema(view: Any) -> None:
    assert join_key_kinds([view]) == {"customer_id": "int"}


# -- online writes ----------------------------------------------------------------------------------------
def _online(**overrides: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": [1, 2],
        "event_timestamp": [datetime(2025, 1, 1, tzinfo=UTC)] * 2,
        "txn_count_30d": [3.0, 4.0],
        "spend_30d": [10.0, 20.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ([{"customer_id": 1}], "must be a pandas DataFrame"),
        (_online().drop(columns=["spend_30d"]), r"missing column\(s\) spend_30d"),
        (_online().drop(columns=["event_timestamp"]), r"missing column\(s\) event_timestamp"),
        (_online().drop(columns=["customer_id"]), r"missing column\(s\) customer_id"),
        (_online(bogus=[1, 2]), r"unknown column\(s\) bogus"),
        (_online(spend_30d=[1.0, np.nan]), "'spend_30d' has empty values"),
        (_online(event_timestamp=["x", "y"]), "'event_timestamp' is not a timestamp"),
        (_online(created=["x", "y"]), "'created' is not a timestamp"),
        (_online(txn_count_30d=["a", "b"]), "'txn_count_30d' must be"),
        (_online(txn_count_30d=[2.5, 3.0]), "'txn_count_30d' is Int64: whole numbers only"),
    ],
)
def test_bad_online_rows_are_bad_input(view: Any, frame: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        checked_online_frame(frame, view, ["customer_id"])


def test_online_rows_are_cast_to_the_view_types(view: Any) -> None:
    frame = checked_online_frame(_online(created=[datetime(2025, 1, 1)] * 2), view, ["customer_id"])
    assert frame["txn_count_30d"].dtype == np.int64
    assert frame["spend_30d"].dtype == np.float32
    assert str(frame["created"].dtype) == "datetime64[ns, UTC]"


def test_online_rows_without_created_get_the_event_time(view: Any) -> None:
    frame = checked_online_frame(_online(), view, ["customer_id"])
    assert frame["created"].tolist() == frame["event_timestamp"].tolist()


# -- datetimes --------------------------------------------------------------------------------------------
def test_naive_datetimes_are_utc_and_aware_ones_are_converted() -> None:
    assert as_utc(datetime(2025, 1, 1), "start") == datetime(2025, 1, 1, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert as_utc(datetime(2025, 1, 1, 2, tzinfo=plus_two), "end") == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2025-01-01", 1735689600, None])
def test_non_datetimes_are_bad_input(value: Any) -> None:
    with pytest.raises(InvalidInput, match="start must be a datetime"):
        as_utc(value, "start")
