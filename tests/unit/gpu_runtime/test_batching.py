"""``[serving.batching]`` settings and how they reach the generated Triton config."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from shipyard.config import ServingSettings
from shipyard.gpu_runtime.batching import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_QUEUE_DELAY_US,
    DynamicBatching,
    batching_settings,
)
from shipyard.gpu_runtime.serving_backend import choose_serving_options


def test_defaults_batch_with_a_short_queue_delay() -> None:
    found = batching_settings(ServingSettings())
    assert (found.max_batch_size, found.max_queue_delay_us) == (
        DEFAULT_MAX_BATCH_SIZE,
        DEFAULT_QUEUE_DELAY_US,
    )


def test_configured_batching_reaches_the_serving_options() -> None:
    cfg = SimpleNamespace(
        backend="python", batching=DynamicBatching(max_batch_size=8, max_queue_delay_us=500)
    )
    options = choose_serving_options(cfg, lambda: False)  # type: ignore[arg-type]
    assert (options.backend, options.max_batch_size, options.max_queue_delay_us) == ("python", 8, 500)


def test_zero_turns_batching_off() -> None:
    cfg = SimpleNamespace(backend="python", batching=DynamicBatching(max_batch_size=0))
    assert choose_serving_options(cfg, lambda: False).max_batch_size == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_batch_size", -1),
        ("max_batch_size", 65_537),
        ("max_batch_size", "many"),
        ("max_queue_delay_us", -5),
        ("max_queue_delay_us", 2_000_000),
    ],
)
def test_bad_batching_values_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        DynamicBatching(**{field: value})  # type: ignore[arg-type]
