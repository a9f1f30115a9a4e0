"""Read and write data frames from user-given paths, with errors that name the path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from shipyard.errors import InvalidInput, NotFound

SUFFIXES = (".parquet", ".csv")


def read_frame(path: Path, field: str) -> pd.DataFrame:
    """Load a Parquet or CSV file; a missing file or other suffix is an error naming ``field`` and path."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"{field}: {path} must be .parquet or .csv")
    if not path.is_file():
        raise NotFound(f"{field}: {path} does not exist")
    try:
        return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{field}: {path} could not be read ({exc})") from exc


def write_frame_atomic(frame: pd.DataFrame, path: Path, field: str) -> None:
    """Write Parquet or CSV via a temp file and rename, so a reader never sees half a file."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"{field}: {path} must end in .parquet or .csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
