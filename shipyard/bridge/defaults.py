"""Notebook-level pipeline defaults: the ``shipyard`` key of the notebook metadata (and Kale's pipeline name).

```json
"metadata": {"shipyard": {"name": "churn", "kernel": "python3", "step_timeout_s": 600,
                          "resources": {"cpu": "2"}, "ray": true}}
```
``resources`` apply to every step that does not set the same resource with a ``limit:`` tag; ``ray: true``
makes ``shipyard pipeline run`` execute each step as a Ray task (``--ray`` / ``--no-ray`` override it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import InvalidInput

METADATA_KEY = "shipyard"
_KEYS = {"name", "kernel", "step_timeout_s", "resources", "ray"}
_RESOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
_QUANTITY = re.compile(r"^[0-9][0-9A-Za-z.]*$")


@dataclass
class NotebookDefaults:
    """Defaults the notebook itself asks for; None means "use shipyard.toml"."""

    name: str | None = None
    kernel: str | None = None
    step_timeout_s: int | None = None
    resources: dict[str, str] = field(default_factory=dict)
    ray: bool = False


def notebook_defaults(metadata: dict[str, Any]) -> NotebookDefaults:
    """Read ``metadata.shipyard``; a wrong key or value raises ``InvalidInput`` saying which."""
    raw = metadata.get(METADATA_KEY) or {}
    kale = metadata.get("kubeflow_notebook")
    out = NotebookDefaults()
    if isinstance(kale, dict) and isinstance(kale.get("pipeline_name"), str):
        out.name = kale["pipeline_name"] or None
    if not isinstance(raw, dict):
        raise InvalidInput(
            f'notebook metadata \'{METADATA_KEY}\' must be an object like {{"kernel": "python3"}}'
        )
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise InvalidInput(
            f"notebook metadata '{METADATA_KEY}': unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_KEYS))}"
        )
    if "name" in raw:
        out.name = _string(raw, "name")
    if "kernel" in raw:
        out.kernel = _string(raw, "kernel")
    if "step_timeout_s" in raw:
        value = raw["step_timeout_s"]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidInput(
                f"notebook metadata '{METADATA_KEY}.step_timeout_s' must be a positive integer (seconds), "
                f"not {value!r}"
            )
        out.step_timeout_s = value
    if "ray" in raw:
        if not isinstance(raw["ray"], bool):
            raise InvalidInput(
                f"notebook metadata '{METADATA_KEY}.ray' must be true or false, not {raw['ray']!r}"
            )
        out.ray = raw["ray"]
    resources = raw.get("resources", {})
    if not isinstance(resources, dict):
        raise InvalidInput(f"notebook metadata '{METADATA_KEY}.resources' must map resource -> quantity")
    for key, value in resources.items():
        quantity = str(value)
        if not _RESOURCE.match(str(key)) or not _QUANTITY.match(quantity):
            raise InvalidInput(
                f"notebook metadata '{METADATA_KEY}.resources': {key!r}: {value!r} is not RESOURCE: QUANTITY "
                '(e.g. "nvidia.com/gpu": 1)'
            )
        out.resources[str(key)] = quantity
    return out


def _string(raw: dict[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"notebook metadata '{METADATA_KEY}.{key}' must be a non-empty string, not {value!r}"
        )
    return value.strip()
