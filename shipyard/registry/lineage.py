"""Content hashes that tie a registered model to what produced it: notebook, training data, config, artifact."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_CHUNK = 1 << 20

TAG_NOTEBOOK = "shipyard.notebook_sha256"
TAG_NOTEBOOK_PATH = "shipyard.notebook_path"
TAG_FRAME = "shipyard.training_frame_sha256"
TAG_CONFIG = "shipyard.config_sha256"
TAG_PIPELINE_RUN = "shipyard.pipeline_run"
TAG_PIPELINE = "shipyard.pipeline"
TAG_STEP = "shipyard.pipeline_step"
UNKNOWN = "unknown"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(root: Path) -> str:
    """Hex sha256 of a directory: every file's relative path and content hash, in sorted order.

    A single file hashes like a one-entry tree, so callers need not care which one an artifact is.
    """
    if root.is_file():
        entries = [(root.name, sha256_file(root))]
    else:
        entries = sorted(
            (p.relative_to(root).as_posix(), sha256_file(p)) for p in root.rglob("*") if p.is_file()
        )
    digest = hashlib.sha256()
    for rel, file_hash in entries:
        digest.update(f"{rel}\0{file_hash}\n".encode())
    return digest.hexdigest()


def sha256_frame(frame: pd.DataFrame) -> str:
    """Hex sha256 of a DataFrame's column names, dtypes and values (row order matters, the index does not)."""
    import pandas as pd

    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\0{dtype}\n".encode())
    row_hashes = pd.util.hash_pandas_object(frame, index=False, categorize=True)
    digest.update(row_hashes.to_numpy().tobytes())
    return digest.hexdigest()


def notebook_lineage(run_context: Mapping[str, Any]) -> dict[str, str]:
    """Notebook path and hash: from the pipeline run context, else from the Jupyter kernel's own notebook."""
    sha = str(run_context.get("notebook_sha256") or "")
    path = str(run_context.get("notebook_path") or "")
    if not path:
        # Jupyter Server tells a kernel which notebook it serves only through this variable.
        path = os.environ.get("JPY_SESSION_NAME", "")
    if not sha and path and Path(path).is_file():
        sha = sha256_file(Path(path))
    return {TAG_NOTEBOOK: sha or UNKNOWN, TAG_NOTEBOOK_PATH: path or UNKNOWN}


def lineage_tags(
    *, run_context: Mapping[str, Any], config_path: Path, training_frame: pd.DataFrame
) -> dict[str, str]:
    """Every lineage tag a model run and version carry."""
    tags = notebook_lineage(run_context)
    tags[TAG_FRAME] = sha256_frame(training_frame)
    tags[TAG_CONFIG] = sha256_file(config_path) if config_path.is_file() else UNKNOWN
    tags[TAG_PIPELINE_RUN] = str(run_context.get("run_id") or "")
    tags[TAG_PIPELINE] = str(run_context.get("pipeline") or "")
    tags[TAG_STEP] = str(run_context.get("step") or "")
    return tags
