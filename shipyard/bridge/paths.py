"""Where a promoted pipeline and a run keep their files, and reading ``pipeline.json``.

```
WS/pipelines/NAME/pipeline.json        steps, edges, parameters, source notebook path + sha256
WS/pipelines/NAME/definitions.py       Dagster Definitions (``dagster dev -f definitions.py``)
WS/pipelines/NAME/steps/STEP.ipynb     papermill-parameterised step notebooks
WS/.shipyard/runs/RUN_ID/run.json      pipeline, parameters (written before the first step)
WS/.shipyard/runs/RUN_ID/STEP/output.ipynb, result.json, metrics.json, data/
```
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput, NotFound

SPEC_FILE = "pipeline.json"
DEFINITIONS_FILE = "definitions.py"
STEPS_DIR = "steps"
RUN_FILE = "run.json"
RESULT_FILE = "result.json"
OUTPUT_NOTEBOOK = "output.ipynb"
PIPELINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def check_pipeline_name(name: str) -> str:
    """A pipeline name is a folder name and part of Dagster asset keys: letters, digits, _ and -."""
    if not PIPELINE_NAME.match(name or ""):
        raise InvalidInput(
            f"pipeline name {name!r}: use 1-100 letters, digits, _ or -, starting with a letter or digit"
        )
    return name


def step_notebook(pipeline_dir: Path, step: str) -> Path:
    return pipeline_dir / STEPS_DIR / f"{step}.ipynb"


def step_run_dir(run_dir: Path, step: str) -> Path:
    return run_dir / step


def read_spec(pipeline_dir: Path) -> dict[str, Any]:
    """Read ``pipeline.json``; a missing pipeline raises ``NotFound`` saying how to create one."""
    path = pipeline_dir / SPEC_FILE
    if not path.is_file():
        raise NotFound(
            f"pipeline '{pipeline_dir.name}' not found ({path} is missing); create it with "
            f"`shipyard pipeline promote NOTEBOOK --name {pipeline_dir.name}`"
        )
    spec: dict[str, Any] = json.loads(path.read_text())
    return spec


def find_workspace_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``shipyard.toml``."""
    from shipyard.config import CONFIG_FILENAME

    for candidate in (start, *start.parents):
        if (candidate / CONFIG_FILENAME).is_file():
            return candidate
    return None
