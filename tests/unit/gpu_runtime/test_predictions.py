"""Entity validation and the online-feature matrix of a predict call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.gpu_runtime.deployment_info import DeploymentInfo
from shipyard.gpu_runtime.predictions import (
    MAX_ENTITIES,
    _feature_matrix,
    _records_matrix,
    validate_entities,
)

KEYS = ["customer_id"]


def _dep() -> DeploymentInfo:
    return DeploymentInfo(
        name="churn",
        project="p",
        model_name="churn",
        model_version="1",
        model_uri="models:/churn/1",
        triton_model="churn-v1",
        feature_refs=["profile:a", "activity:b"],
        feature_columns=["a", "b"],
        entity_keys=KEYS,
        reference_path="",
        artifact_sha256="",
        parity_max_abs_diff=0.0,
        status="ready",
    )


def test_entities_are_reduced_to_the_entity_keys() -> None:
    rows = validate_entities([{"customer_id": 7, "note": "ignored"}, {"customer_id": "8"}], KEYS, "churn")
    assert rows == [{"customer_id": 7}, {"customer_id": "8"}]


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        ([], "non-empty list"),
        ({"customer_id": 1}, "non-empty list"),
        (None, "non-empty list"),
        ([1], r"entities\[0\] must be an object"),
        ([{"customer_id": 1}, {"id": 2}], r"entities\[1\] lacks entity key customer_id"),
        ([{"customer_id": None}], r"entities\[0\].customer_id must be a number or string"),
        ([{"customer_id": [1]}], "must be a number or string, got list"),
        ([{"customer_id": {"x": 1}}], "got dict"),
        ([{"customer_id": i} for i in range(MAX_ENTITIES + 1)], "send at most"),
    ],
)
def test_bad_entities(entities: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_entities(entities, KEYS, "churn")


def test_feature_matrix_orders_columns_like_the_model() -> None:
    online = pd.DataFrame({"customer_id": [1, 2], "b": [2.0, 4.0], "a": [1, 3]})
    x = _feature_matrix(online, [{"customer_id": 1}, {"customer_id": 2}], _dep())
    assert x.dtype == np.float32
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "b",
    [
        pd.Series([2, 4], dtype="Int64"),
        pd.Series(["2", "4.0"], dtype=object),
        pd.Series([2.0, 4.0], dtype="Float64"),
        pd.Series([True, False]),
    ],
    ids=["nullable-int", "numeric-strings", "nullable-float", "bool"],
)
def test_feature_matrix_converts_other_online_dtypes(b: pd.Series) -> None:
    online = pd.DataFrame({"customer_id": [1, 2], "a": [1.0, 3.0], "b": b})
    x = _feature_matrix(online, [{"customer_id": 1}, {"customer_id": 2}], _dep())
    assert x[:, 0].tolist() == [1.0, 3.0]
    assert x[:, 1].tolist() == pd.to_numeric(b).astype(float).tolist()


@pytest.mark.parametrize(
    "b",
    [pd.Series([2, None], dtype="Int64"), pd.Series(["2", "n/a"], dtype=object)],
    ids=["nullable-missing", "unparseable-string"],
)
def test_feature_values_that_are_not_numbers_name_the_entity(b: pd.Series) -> None:
    online = pd.DataFrame({"customer_id": [1, 2], "a": [1.0, 3.0], "b": b})
    with pytest.raises(NotFound, match="customer_id=2 has no value for b"):
        _feature_matrix(online, [{"customer_id": 1}, {"customer_id": 2}], _dep())


def test_unknown_entity_is_not_found_by_name() -> None:
    online = pd.DataFrame({"customer_id": [1, 999], "a": [1.0, None], "b": [2.0, None]})
    with pytest.raises(NotFound, match="entity customer_id=999 has no online features"):
        _feature_matrix(online, [{"customer_id": 1}, {"customer_id": 999}], _dep())


def test_partly_missing_features_name_the_feature() -> None:
    online = pd.DataFrame({"customer_id": [5], "a": [1.0], "b": [None]})
    with pytest.raises(NotFound, match="customer_id=5 has no value for b"):
        _feature_matrix(online, [{"customer_id": 5}], _dep())


def test_missing_feature_columns_are_not_found() -> None:
    online = pd.DataFrame({"customer_id": [5], "a": [1.0]})
    with pytest.raises(NotFound, match="no column for b"):
        _feature_matrix(online, [{"customer_id": 5}], _dep())


def test_records_matrix_orders_columns_like_the_model() -> None:
    records = [{"customer_id": 1, "b": 2.0, "a": 1.0}, {"customer_id": 2, "b": 4.0, "a": 3.0}]
    x = _records_matrix(records, [{"customer_id": 1}, {"customer_id": 2}], _dep())
    assert x.dtype == np.float32
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("records", "entities", "message"),
    [
        (
            [{"customer_id": 1, "a": 1.0, "b": 2.0}, {"customer_id": 999, "a": None, "b": None}],
            [{"customer_id": 1}, {"customer_id": 999}],
            "entity customer_id=999 has no online features",
        ),
        ([{"customer_id": 5, "a": 1.0, "b": None}], [{"customer_id": 5}], "customer_id=5 has no value for b"),
        ([{"customer_id": 5, "a": 1.0}], [{"customer_id": 5}], "no column for b"),
        ([{"customer_id": 5, "a": 1.0, "b": 2.0}], [{"customer_id": 5}, {"customer_id": 6}], "1 rows for 2"),
    ],
    ids=["unknown-entity", "partly-missing", "missing-column", "row-count"],
)
def test_records_matrix_refuses_what_the_frame_path_refuses(
    records: list[dict[str, Any]], entities: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(NotFound, match=message):
        _records_matrix(records, entities, _dep())
