"""One ``timestamp`` converter for sqlite3 that both Feast and IPython can live with.

sqlite3 converters are process-wide. Feast's SQLite online store registers one that reads Unix epochs;
IPython's history registers one that reads ISO strings, lazily, the first time history is used. Whichever
registers last breaks the other: in a notebook, an online read after IPython's registration fails with
"Invalid isoformat string: '1795392000'". This converter accepts both, and is re-registered before each
online read because IPython may register its own at any later time.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime


def _timestamp(value: bytes) -> datetime:
    try:
        return datetime.fromtimestamp(int(value))  # Feast's epoch seconds: as cheap as Feast's own converter
    except ValueError:
        return datetime.fromisoformat(value.decode())  # IPython's ISO strings


def tolerant_timestamps() -> None:
    """(Re-)register the converter that reads epoch seconds and ISO strings alike."""
    sqlite3.register_converter("timestamp", _timestamp)
