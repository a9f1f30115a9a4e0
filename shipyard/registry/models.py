"""Values the registry hands out, and the version tags they are read from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.registry import lineage

TAG_ARTIFACT = "shipyard.artifact_sha256"
TAG_REFERENCE = "shipyard.reference_sha256"
TAG_REFERENCE_URI = "shipyard.reference_uri"
TAG_FEATURE_COLUMNS = "shipyard.feature_columns"
TAG_FEATURE_REFS = "shipyard.feature_refs"
TAG_ENTITY_KEYS = "shipyard.entity_keys"
TAG_TARGET = "shipyard.target"
TAG_FLAVOR = "shipyard.model_class"

MODEL_DIR = "model"
REFERENCE_FILE = "reference.parquet"
REFERENCE_DIR = "reference"
REFERENCE_MAX_ROWS = 5000

# Model names end up as Triton model directories and URL path segments, so keep them boring.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# MLflow reserves "latest" and version-like aliases ("v3"); Shipyard resolves "latest" itself.
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version and everything needed to serve and monitor it."""

    name: str
    version: str
    run_id: str
    model_uri: str
    source: str
    aliases: list[str]
    artifact_sha256: str
    feature_columns: list[str]
    feature_refs: list[str]
    entity_keys: list[str]
    target: str
    reference_uri: str
    reference_sha256: str
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def lineage(self) -> dict[str, str]:
        """The lineage tags (notebook, training frame, config, pipeline run) of this version."""
        return {k: v for k, v in self.tags.items() if k in _LINEAGE_KEYS}


_LINEAGE_KEYS = {
    lineage.TAG_NOTEBOOK,
    lineage.TAG_NOTEBOOK_PATH,
    lineage.TAG_FRAME,
    lineage.TAG_CONFIG,
    lineage.TAG_PIPELINE_RUN,
    lineage.TAG_PIPELINE,
    lineage.TAG_STEP,
}


def validate_model_name(name: object) -> str:
    """A registered model name, or ``InvalidInput`` saying what is allowed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"model name {name!r} is not valid: use 1-100 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def validate_alias(alias: object) -> str:
    """An alias MLflow will accept, or ``InvalidInput`` saying what is allowed."""
    if not isinstance(alias, str) or not _ALIAS.match(alias) or _RESERVED_ALIAS.match(alias):
        raise InvalidInput(
            f"alias {alias!r} is not valid: use letters, digits, '_' or '-', starting with a letter "
            "or '_'; 'latest' and 'v<N>' are reserved"
        )
    return alias


def dump_list(values: list[str]) -> str:
    """Encode a list of names as a tag value."""
    return json.dumps(list(values), separators=(",", ":"))


def load_list(value: str | None) -> list[str]:
    """Decode a tag value written by ``dump_list`` (absent or broken tags read as empty)."""
    if not value:
        return []
    try:
        decoded: Any = json.loads(value)
    except json.JSONDecodeError:
        return []
    return [str(v) for v in decoded] if isinstance(decoded, list) else []
