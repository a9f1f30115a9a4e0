"""A deployment's files beside its record: the versions it served (what ``rollback`` goes back to), and the
pending marker naming the Triton model a deploy in progress is writing (what a re-run cleans up after a kill).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_ENTRIES = 50
PENDING_FILE = "pending.json"


def read_history(path: Path) -> list[str]:
    """Versions served by a deployment, oldest first (empty when none were recorded)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def write_history(path: Path, versions: list[str]) -> None:
    """Replace the history atomically (a crash leaves the old or the new file, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(versions[-MAX_ENTRIES:]))
    os.replace(tmp, path)


def push_version(path: Path, version: str) -> None:
    """Record that ``version`` is now served (a redeploy of the same version is not a new entry)."""
    versions = read_history(path)
    if not versions or versions[-1] != version:
        write_history(path, [*versions, version])


def rollback_target(versions: list[str], current: str) -> tuple[str, list[str]] | None:
    """The version before ``current`` and the history as it stands after rolling back to it."""
    for i in range(len(versions) - 2, -1, -1):
        if versions[i] != current:
            return versions[i], versions[: i + 1]
    return None


def write_pending(path: Path, triton_model: str) -> None:
    """Mark ``triton_model`` as being deployed (atomically, and durably before any model file is written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(json.dumps({"triton_model": triton_model}))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_pending(path: Path) -> str | None:
    """The Triton model an unfinished deploy was writing, or None."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    model = value.get("triton_model") if isinstance(value, dict) else None
    return model if isinstance(model, str) and model else None


def clear_pending(path: Path) -> None:
    """Forget the pending marker (the deploy finished or was undone)."""
    path.unlink(missing_ok=True)
