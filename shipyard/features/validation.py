"""Input rules of the feature service: entity frames and rows, feature refs, online writes, datetimes.

Each check raises ``InvalidInput`` (or ``NotFound`` for a name that is not registered) naming the column,
row or reference, so every surface reports the same message. Feast types are imported inside the checks
that need them.
"""

from __future__ import annotations

import numbers
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from feast.feature_view import FeatureView

EVENT_TIMESTAMP = "event_timestamp"


def checked_entity_df(entity_df: Any, join_keys: list[str]) -> pd.DataFrame:
    """A shallow copy of ``entity_df`` with UTC timestamps, after checking keys, timestamps and rows."""
    if not isinstance(entity_df, pd.DataFrame):
        raise InvalidInput(f"entity_df must be a pandas DataFrame, got {type(entity_df).__name__}")
    for column in [*join_keys, EVENT_TIMESTAMP]:
        if column not in entity_df.columns:
            raise InvalidInput(
                f"entity_df is missing column '{column}'; it needs {', '.join(join_keys)} and {EVENT_TIMESTAMP}"
            )
    if entity_df.empty:
        raise InvalidInput("entity_df has no rows; pass at least one entity and timestamp")
    # Shallow: only the timestamp column is replaced (never written into), and callers copy what they return.
    frame = entity_df.copy(deep=False)
    for column in [*join_keys, EVENT_TIMESTAMP]:
        if frame[column].isna().any():
            row = int(frame[column].isna().to_numpy().argmax())
            raise InvalidInput(f"entity_df column '{column}' is empty in row {row}; fill or drop those rows")
    try:
        frame[EVENT_TIMESTAMP] = utc_timestamps(frame[EVENT_TIMESTAMP])
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"entity_df column '{EVENT_TIMESTAMP}' is not a timestamp ({exc})") from exc
    return frame


def checked_refs(feature_refs: Any, views: dict[str, FeatureView]) -> list[str]:
    """The refs, after checking each is ``view:feature`` of a registered view and names no feature twice."""
    if isinstance(feature_refs, str) or not isinstance(feature_refs, list) or not feature_refs:
        raise InvalidInput("feature_refs must be a non-empty list of 'view:feature' strings")
    seen: set[str] = set()
    for i, ref in enumerate(feature_refs):
        if not isinstance(ref, str) or ref.count(":") != 1 or ref.startswith(":") or ref.endswith(":"):
            raise InvalidInput(f"feature_refs[{i}] = {ref!r} is not of the form 'view:feature'")
        view_name, feature = ref.split(":")
        if view_name not in views:
            raise NotFound(
                f"feature_refs[{i}] = {ref!r}: no feature view '{view_name}'; known: {', '.join(sorted(views))}"
            )
        if feature not in {f.name for f in views[view_name].features}:
            raise NotFound(f"feature_refs[{i}] = {ref!r}: view '{view_name}' has no feature '{feature}'")
        if feature in seen:
            raise InvalidInput(f"feature_refs[{i}] = {ref!r}: feature name '{feature}' is requested twice")
        seen.add(feature)
    return list(feature_refs)


def join_key_kinds(views: list[FeatureView]) -> dict[str, str]:
    """The join keys of ``views`` in order, each with the kind of value it takes: "int", "str" or "any"."""
    from feast.types import Int32, Int64, String

    kinds: dict[str, str] = {}
    for view in views:
        for column in view.entity_columns:
            kind = "int" if column.dtype in (Int32, Int64) else "str" if column.dtype == String else "any"
            kinds.setdefault(column.name, kind)
    return kinds


def checked_entity_rows(entity_rows: Any, key_kinds: dict[str, str]) -> list[dict[str, Any]]:
    """Rows reduced to their join keys, each coerced to the key's kind."""
    if not isinstance(entity_rows, list):
        raise InvalidInput(f"entity rows must be a list of objects, got {type(entity_rows).__name__}")
    rows = []
    for i, row in enumerate(entity_rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"entity row {i} must be an object like {{'{next(iter(key_kinds))}': ...}}")
        clean = {}
        for key, kind in key_kinds.items():
            if key not in row or row[key] is None:
                raise InvalidInput(f"entity row {i} is missing '{key}'")
            clean[key] = entity_value(row[key], kind, f"entity row {i} '{key}'")
        rows.append(clean)
    return rows


def entity_value(value: Any, kind: str, where: str) -> Any:
    """Coerce a key to its entity's type: JSON floats like 42.0 and strings like "42" become ints."""
    if isinstance(value, (bool, list, dict, tuple, set)):
        raise InvalidInput(f"{where}: {value!r} is not a valid entity key")
    if kind == "int":
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        raise InvalidInput(f"{where}: {value!r} is not an integer; this entity key takes integers")
    if kind == "str":
        if isinstance(value, str) and value:
            return value
        if isinstance(value, numbers.Integral):
            return str(value)
        raise InvalidInput(f"{where}: {value!r} is not a non-empty string; this entity key takes strings")
    return value


def checked_online_frame(df: Any, view: FeatureView, join_keys: list[str]) -> pd.DataFrame:
    """A copy of ``df`` ready for Feast's online write: UTC timestamps, a created column, the view's dtypes."""
    from feast.types import Float32, Float64, Int32, Int64

    if not isinstance(df, pd.DataFrame):
        raise InvalidInput(f"rows must be a pandas DataFrame, got {type(df).__name__}")
    features = {f.name: f.dtype for f in view.features}
    numpy_dtypes: dict[Any, str] = {Int64: "int64", Int32: "int32", Float32: "float32", Float64: "float64"}
    required = [*join_keys, EVENT_TIMESTAMP, *features]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InvalidInput(f"rows for '{view.name}' are missing column(s) {', '.join(missing)}")
    created = view.batch_source.created_timestamp_column if view.batch_source else ""
    extra = [c for c in df.columns if c not in {*required, created}]
    if extra:
        raise InvalidInput(f"rows for '{view.name}' have unknown column(s) {', '.join(map(str, extra))}")
    frame = df.copy()
    for column in (EVENT_TIMESTAMP, created):
        if column in frame.columns:
            try:
                frame[column] = utc_timestamps(frame[column])
            except (ValueError, TypeError) as exc:
                raise InvalidInput(f"column '{column}' is not a timestamp ({exc})") from exc
    if created and created not in frame.columns:
        # Feast's online write reads the source's created column; default it to the event time.
        frame[created] = frame[EVENT_TIMESTAMP]
    for name, dtype in features.items():
        if frame[name].isna().any():
            raise InvalidInput(f"column '{name}' has empty values; the online store needs a value per row")
        numpy_dtype = numpy_dtypes.get(dtype)
        if numpy_dtype is None:
            continue
        try:
            cast = frame[name].astype(numpy_dtype)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"column '{name}' must be {dtype} ({exc})") from exc
        if numpy_dtype.startswith("int") and not (cast == pd.to_numeric(frame[name])).all():
            raise InvalidInput(f"column '{name}' is {dtype}: whole numbers only (round the values first)")
        frame[name] = cast
    return frame.reset_index(drop=True)


def as_utc(value: datetime, field: str) -> datetime:
    """``value`` as an aware UTC datetime; naive means UTC."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_timestamps(values: pd.Series) -> pd.Series:
    """Timestamps as UTC; naive ones are taken as UTC, strings may mix formats."""
    # Datetime columns need no parsing: converting the zone is a metadata change, to_datetime a full pass.
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values):
        return values.dt.tz_localize("UTC")
    return pd.to_datetime(values, utc=True, format="mixed")


# Names end up as SQLite/Redis/Parquet identifiers in Feast's stores; allow plain identifiers only and refuse
# SQL keywords, so nothing a user typed is ever spliced into SQL.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
SQL_RESERVED = frozenset(
    """add all alter and as asc begin between by case cast check column commit constraint create cross
    current_date current_time current_timestamp database default delete desc distinct drop else end escape
    except exists foreign from full group having if in index inner insert intersect into is join key left
    like limit not null offset on or order outer pragma primary references replace right rollback select set
    table then to transaction trigger union unique update using values view when where with""".split()
)
MAX_ONLINE_ENTITIES = 10_000


class TooManyEntities(InvalidInput):
    """An online request over the entity bound; split it into batches."""

    code = "payload_too_large"
    http_status = 413


def checked_name(name: Any, what: str) -> str:
    """``name`` if it is a plain identifier that is not an SQL keyword; else ``InvalidInput`` saying why."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"{what} name {name!r} is not allowed: use letters, digits and underscores, starting with a "
            "letter or underscore (at most 128 characters)"
        )
    if name.lower() in SQL_RESERVED:
        raise InvalidInput(f"{what} name {name!r} is an SQL reserved word; choose another name")
    return name


def checked_entity_count(count: int) -> None:
    """Refuse an online read over ``MAX_ONLINE_ENTITIES`` rows (the surfaces map it to HTTP 413)."""
    if count > MAX_ONLINE_ENTITIES:
        raise TooManyEntities(
            f"{count} entity rows in one online request; the limit is {MAX_ONLINE_ENTITIES}: "
            "split the request into batches"
        )
