"""Materialization: which interval each view loads, the quality gate, then one view at a time, with progress.

``plan`` checks the arguments (bad input raises before anything runs); ``run`` gates every view and loads
them; ``in_background`` runs it on a thread and hands back its steps as an iterator, so a surface can stream
progress (REST's ``text/event-stream``) while the load goes on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from shipyard.errors import InvalidInput, NotFound
from shipyard.features.validation import as_utc

if TYPE_CHECKING:
    from feast.feature_view import FeatureView

# Materializing with no earlier run and no start loads the whole history (Feast keeps the latest per key).
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MaterializeResult:
    """Which views were loaded into the online store, over which interval, in how long."""

    feature_views: list[str]
    start: datetime
    end: datetime
    duration_s: float


@dataclass(frozen=True)
class MaterializeProgress:
    """One step: every view's quality checks passed (``checked``), or one view was loaded (``loaded``)."""

    stage: Literal["checked", "loaded"]
    feature_view: str | None
    done: int
    total: int


@dataclass(frozen=True)
class MaterializePlan:
    """The views to load, each from its own start, all up to ``end``."""

    views: list[FeatureView]
    start_of: dict[str, datetime]
    end: datetime


Step = MaterializeProgress | MaterializeResult


def plan(
    views: list[FeatureView], start: datetime | None, end: datetime | None, repo_dir: Path
) -> MaterializePlan:
    """The interval of every online view; by default each view continues where it last stopped."""
    end_at = as_utc(end, "end") if end is not None else datetime.now(UTC)
    start_at = as_utc(start, "start") if start is not None else None
    if start_at is not None and start_at > end_at:
        raise InvalidInput(f"start {start_at.isoformat()} is after end {end_at.isoformat()}; swap them")
    online = [v for v in views if v.online]
    if not online:
        raise NotFound(f"no online feature views registered from {repo_dir}; run `shipyard features apply`")
    start_of = {v.name: min(start_at or _last_end(v) or _BEGINNING, end_at) for v in online}
    return MaterializePlan(views=online, start_of=start_of, end=end_at)


def run(
    planned: MaterializePlan,
    repo_dir: Path,
    load: Callable[[str, datetime, datetime], None],
    on_step: Callable[[MaterializeProgress], None] | None = None,
) -> MaterializeResult:
    """Run every view's quality checks, then ``load(view, start, end)`` each view in name order."""
    from shipyard.features.quality import gate

    began = time.perf_counter()
    names = sorted(planned.start_of)
    # Every view's checks pass before the first row is written, so a failure leaves the store as it was.
    gate(planned.views, repo_dir, planned.start_of, planned.end)
    if on_step is not None:
        on_step(MaterializeProgress("checked", None, 0, len(names)))
    for done, name in enumerate(names, start=1):
        load(name, planned.start_of[name], planned.end)
        if on_step is not None:
            on_step(MaterializeProgress("loaded", name, done, len(names)))
    return MaterializeResult(
        feature_views=names,
        start=min(planned.start_of.values()),
        end=planned.end,
        duration_s=round(time.perf_counter() - began, 3),
    )


def in_background(
    work: Callable[[Callable[[MaterializeProgress], None]], MaterializeResult],
) -> Iterator[Step]:
    """Start ``work(on_step)`` on a thread; yield its progress steps, then its result (or raise its error).

    The load finishes even if the iterator is dropped half-way (a client that disconnects), so the online
    store is never left with some views of a run loaded and the rest silently skipped.
    """
    steps: queue.SimpleQueue[Step | BaseException] = queue.SimpleQueue()

    def target() -> None:
        try:
            steps.put(work(steps.put))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it in its thread
            steps.put(exc)

    threading.Thread(target=target, name="shipyard-materialize").start()
    return _drain(steps)


def _drain(steps: queue.SimpleQueue[Step | BaseException]) -> Iterator[Step]:
    while True:
        step = steps.get()
        if isinstance(step, BaseException):
            raise step
        yield step
        if isinstance(step, MaterializeResult):
            return


def _last_end(view: FeatureView) -> datetime | None:
    end = view.most_recent_end_time
    if end is None:
        return None
    return end.replace(tzinfo=UTC) if end.tzinfo is None else end.astimezone(UTC)
