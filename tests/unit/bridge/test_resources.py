"""limit: requests against this machine: a warning by default, a fast failure when strict."""

from __future__ import annotations

import pytest

from shipyard.bridge.resources import Capacity, check_resources, parse_quantity
from shipyard.bridge.runner import cache_keys, coerce_parameters
from shipyard.errors import InvalidInput, OperationFailed

fake_laptop = Capacity(cpu=4, gpu=0, memory=8 * 2**30)


def test_requests_the_machine_meets_give_no_warning() -> None:
    assert check_resources([("a", {"cpu": "2", "memory": "4Gi"})], fake_laptop, strict=True) == []


@pytest.mark.parametrize(
    ("resources", "needle"),
    [
        ({"nvidia.com/gpu": "1"}, "0 NVIDIA GPU(s)"),
        ({"cpu": "8"}, "4 CPU core(s)"),
        ({"memory": "64Gi"}, "8.0 GiB of memory"),
        ({"example.com/fpga": "1"}, "cannot be checked"),
    ],
)
def test_missing_resources_warn_or_fail_fast(resources: dict[str, str], needle: str) -> None:
    warnings = check_resources([("train", resources)], fake_laptop, strict=False)
    assert len(warnings) == 1 and "step 'train'" in warnings[0] and needle in warnings[0]
    assert "running without it" in warnings[0]
    with pytest.raises(OperationFailed, match="--strict-resources"):
        check_resources([("train", resources)], fake_laptop, strict=True)


@pytest.mark.parametrize(
    ("resource", "quantity", "value"),
    [("cpu", "500m", 0.5), ("cpu", "2", 2.0), ("memory", "1Gi", 2**30), ("memory", "1G", 10**9)],
)
def test_quantities(resource: str, quantity: str, value: float) -> None:
    assert parse_quantity(resource, quantity) == value


@pytest.mark.parametrize("quantity", ["x", "1.2.3", "4Qi"])
def test_bad_quantities(quantity: str) -> None:
    with pytest.raises(InvalidInput, match="memory"):
        parse_quantity("memory", quantity)


SPEC = {
    "steps": [
        {"name": "a", "after": [], "code_sha256": "1"},
        {"name": "b", "after": ["a"], "code_sha256": "2"},
        {"name": "c", "after": [], "code_sha256": "3"},
    ]
}


def test_cache_keys_follow_code_parameters_and_upstream_steps() -> None:
    base = cache_keys(SPEC, {"n": 1})
    assert base == cache_keys(SPEC, {"n": 1})
    assert cache_keys(SPEC, {"n": 2})["a"] != base["a"]
    edited = {"steps": [{**SPEC["steps"][0], "code_sha256": "9"}, *SPEC["steps"][1:]]}
    changed = cache_keys(edited, {"n": 1})
    assert changed["a"] != base["a"] and changed["b"] != base["b"]  # b's input comes from a
    assert changed["c"] == base["c"]


@pytest.mark.parametrize(
    ("given", "needle"),
    [
        ({"not-an-identifier": 1}, "is not a Python identifier"),
        ({"1rows": 1}, "is not a Python identifier"),
        ({"rows": "[1,"}, "is not a int"),
        ({"items": "{oops"}, "is not a list"),
    ],
)
def test_parameter_names_must_be_identifiers_and_values_literals(
    given: dict[str, object], needle: str
) -> None:
    with pytest.raises(InvalidInput, match=needle):
        coerce_parameters("p", {"rows": 10, "items": [1]}, given)
