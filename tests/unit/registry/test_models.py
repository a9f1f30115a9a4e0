"""Name and alias rules, and the tag encoding of lists."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput
from shipyard.registry.models import dump_list, load_list, validate_alias, validate_model_name


@pytest.mark.parametrize("name", ["churn", "churn_v2", "Churn-2024.1", "7up", "a" * 100])
def test_valid_model_names(name: str) -> None:
    assert validate_model_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "-churn", ".hidden", "churn/1", "churn v2", "a" * 101, "../x", "churn@champion", None, 3]
)
def test_invalid_model_names(name: object) -> None:
    with pytest.raises(InvalidInput, match="model name"):
        validate_model_name(name)


@pytest.mark.parametrize("alias", ["champion", "challenger", "_staging", "prod-2"])
def test_valid_aliases(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize("alias", ["", "latest", "LATEST", "v3", "2nd", "has space", "a/b", None])
def test_invalid_aliases(alias: object) -> None:
    with pytest.raises(InvalidInput, match="alias"):
        validate_alias(alias)


def test_list_tags_round_trip_and_tolerate_garbage() -> None:
    assert load_list(dump_list(["a", "b:c"])) == ["a", "b:c"]
    assert load_list(None) == []
    assert load_list("not json") == []
    assert load_list('{"a": 1}') == []
