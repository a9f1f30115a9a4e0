"""Deploy stage timing and step-by-step progress reporting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[str, str, "float | None"], None]


class Stages(dict[str, float]):
    """Stage timings, reporting each stage to an optional progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        super().__init__()
        self.progress = progress


@contextmanager
def stage(stages: dict[str, float], name: str) -> Iterator[None]:
    """Time the block as stage ``name``, reporting start and done/failed to the progress callback."""
    progress = getattr(stages, "progress", None)
    if progress is not None:
        progress(name, "start", None)
    t0 = time.perf_counter()
    state = "failed"
    try:
        yield
        state = "done"
    finally:
        stages[name] = round(time.perf_counter() - t0, 4)
        if progress is not None:
            progress(name, state, stages[name])
