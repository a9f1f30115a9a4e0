"""``[serving.batching]``: how Triton groups concurrent requests into one model execution."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

DEFAULT_MAX_BATCH_SIZE = 64
# 100 us: at 8 concurrent clients it beat both no delay and no batching (benchmarks/bench_serving.py), and a
# lone request waits at most this long.
DEFAULT_QUEUE_DELAY_US = 100


class DynamicBatching(BaseModel):
    """Triton's dynamic batcher for deployed models (``max_batch_size = 0`` turns it off)."""

    max_batch_size: int = Field(
        DEFAULT_MAX_BATCH_SIZE,
        ge=0,
        le=65_536,
        description="most rows one model execution takes; larger requests are split; 0 = no batching",
    )
    max_queue_delay_us: int = Field(
        DEFAULT_QUEUE_DELAY_US,
        ge=0,
        le=1_000_000,
        description="how long Triton may hold a request to fill a batch; 0 = batch only what is queued",
    )


def batching_settings(serving: Any) -> DynamicBatching:
    """``serving.batching`` when the configuration has it, else the defaults."""
    found = getattr(serving, "batching", None)
    return found if isinstance(found, DynamicBatching) else DynamicBatching()
