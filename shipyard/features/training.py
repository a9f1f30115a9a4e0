"""Training frames: the points Feast is asked about, and its answers put back in the caller's row order.

Feast's file offline store answers sorted by time, one row per distinct (keys, timestamp) point, and drops
points whose values are all past the TTL; these helpers tag each point with its input row so the answers
go back where they belong, with no merge when every row was answered once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shipyard.features.validation import EVENT_TIMESTAMP

if TYPE_CHECKING:
    from feast import FeatureStore

_ROW = "__shipyard_row__"


def feast_points(frame: pd.DataFrame, join_keys: list[str]) -> pd.DataFrame:
    """The entity keys and timestamps Feast is asked about, each row tagged with its input position."""
    import pytz

    points = frame[[*join_keys, EVENT_TIMESTAMP]].reset_index(drop=True)
    # Feast's file store re-stamps every entity timestamp with a Python call per row and re-parses the
    # column unless its zone is pytz's UTC object (``tz != pytz.UTC``); pandas' own is datetime.timezone.utc.
    points[EVENT_TIMESTAMP] = points[EVENT_TIMESTAMP].dt.tz_convert(pytz.UTC)
    # int32: dask hashes every intermediate frame, so a narrower tag column is less to hash.
    points[_ROW] = np.arange(len(points), dtype=np.int32 if len(points) < 2**31 else np.int64)
    return points


def in_input_order(
    frame: pd.DataFrame, found: pd.DataFrame, keys: list[str], names: list[str]
) -> pd.DataFrame:
    """Feast's answers (sorted by time, one per distinct point) joined back onto every input row, in order."""
    rows = found[_ROW].to_numpy()
    where = np.full(len(frame), -1, dtype=np.intp)
    where[rows] = np.arange(len(rows))
    if len(rows) == len(frame) and (where >= 0).all():
        # Every row answered once (no repeated key+timestamp, none dropped by the TTL): reorder, no merge.
        values = found[names].take(where).reset_index(drop=True)
        return pd.concat([frame.reset_index(drop=True), values], axis=1)
    # Feast keeps one answer per repeated (key, timestamp) and drops rows whose values are all past the TTL:
    # join the answers on the point (keys taken from the input, so dtypes match) and leave the rest empty.
    answered = pd.concat(
        [frame[keys].take(rows).reset_index(drop=True), found[names].reset_index(drop=True)], axis=1
    )
    return frame.merge(answered, on=keys, how="left", validate="many_to_one")


@contextlib.contextmanager
def timestamps_already_utc(store: FeatureStore) -> Iterator[None]:
    """Tell Feast not to re-convert entity timestamps that ``feast_points`` made UTC (call under the lock)."""
    # coerce_tz_aware makes Feast copy the entity frame and re-parse each datetime column, only to store
    # them as the UTC zone its file store then refuses (see feast_points). The points are UTC already.
    before = store.config.coerce_tz_aware
    store.config.coerce_tz_aware = False
    try:
        yield
    finally:
        store.config.coerce_tz_aware = before
