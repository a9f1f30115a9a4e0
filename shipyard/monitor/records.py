"""One logged prediction, and its flat row form: the columns of a prediction-log Parquet file."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shipyard.errors import InvalidInput

# Columns every prediction-log row carries; entity keys, features and outputs may not reuse these names.
BASE_COLUMNS = ("request_id", "ts", "model_version", "latency_ms")
Scalar = int | float | str | bool | None

# A deployment name becomes a folder under monitor.log_dir, so it must not be able to leave it.
_DEPLOYMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """What a deployment saw and answered for one request (``ts`` is UTC; a naive value is read as UTC)."""

    request_id: str
    ts: datetime
    entity: dict[str, Any] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 0.0


def check_deployment_name(name: object) -> str:
    """Return ``name`` if it is a safe deployment name, else raise ``InvalidInput``."""
    if not isinstance(name, str) or not _DEPLOYMENT_NAME.match(name):
        raise InvalidInput(
            f"deployment name {name!r} is not valid: use letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, at most 200 characters)"
        )
    return name


def utc(ts: datetime) -> datetime:
    """``ts`` in UTC; a naive datetime is taken to already be UTC."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def to_row(record: object, model_version: str, position: int) -> dict[str, Any]:
    """Validate ``record`` and flatten it into one log row; bad values raise ``InvalidInput`` naming them."""
    if not isinstance(record, PredictionRecord):
        raise InvalidInput(f"records[{position}] is a {type(record).__name__}, expected a PredictionRecord")
    if not isinstance(record.request_id, str) or not record.request_id:
        raise InvalidInput(f"{_where(record, position)}: request_id must be a non-empty string")
    if not isinstance(record.ts, datetime):
        raise InvalidInput(
            f"{_where(record, position)}: ts must be a datetime, got {type(record.ts).__name__}"
        )
    latency = record.latency_ms
    if isinstance(latency, np.generic):
        latency = latency.item()
    if not isinstance(latency, (int, float)) or isinstance(latency, bool):
        raise InvalidInput(f"{_where(record, position)}: latency_ms must be a number, got {latency!r}")
    row: dict[str, Any] = {
        "request_id": record.request_id,
        "ts": utc(record.ts),
        "model_version": model_version,
        "latency_ms": float(latency),
    }
    for section in ("entity", "features", "output"):
        values = getattr(record, section)
        if not isinstance(values, dict):
            raise InvalidInput(
                f"{_where(record, position)}: {section} must be a dict, got {type(values).__name__}"
            )
        for key, value in values.items():
            if type(key) is not str or not key or key in row:
                _bad_key(record, position, section, key)
            kind = type(value)
            # Exact-type fast path: this runs for every feature of every prediction on the serving path.
            if kind is float:
                row[key] = None if value != value else value  # NaN is missing
            elif kind is int or kind is str or kind is bool or value is None:
                row[key] = value
            else:
                row[key] = _scalar(value, record, position, f"{section}[{key!r}]")
    return row


def _where(record: PredictionRecord, position: int) -> str:
    return f"records[{position}] (request_id {record.request_id!r})"


def _bad_key(record: PredictionRecord, position: int, section: str, key: object) -> None:
    where = _where(record, position)
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"{where}: {section} keys must be non-empty strings, got {key!r}")
    raise InvalidInput(
        f"{where}: {section}[{key!r}] clashes with another column of the same name; "
        f"names must be unique across {', '.join(BASE_COLUMNS)}, entity, features and output"
    )


def _scalar(value: Any, record: PredictionRecord, position: int, name: str) -> Scalar:
    # numpy scalars come straight out of Feast and model outputs; store them as plain Python values.
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    raise InvalidInput(
        f"{_where(record, position)}: {name} is a {type(value).__name__} ({value!r:.60}); "
        "log only numbers, strings, booleans or None (missing)"
    )
