"""Create a workspace: ``shipyard.toml``, ``.shipyard/``, the metadata schema, a first API token."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shipyard.config import CONFIG_FILENAME, default_toml
from shipyard.errors import Conflict, InvalidInput
from shipyard.workspace import STATE_DIRNAME, Workspace

EXAMPLES = ("churn",)
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class InitResult:
    root: Path
    project: str
    token: str
    example: str | None


def init_workspace(
    path: Path, *, project: str | None = None, example: str | None = None, customers: int = 50_000
) -> InitResult:
    """Create a workspace at ``path``; shipyard.toml is written last, so a failure leaves no workspace."""
    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"workspace path {root} is a file; choose a folder (it is created if missing)")
    if (root / CONFIG_FILENAME).exists():
        raise Conflict(f"{root} is already a workspace; create more tokens with `shipyard token create NAME`")
    if example is not None and example not in EXAMPLES:
        raise InvalidInput(f"--example {example!r}: unknown example; choose one of {', '.join(EXAMPLES)}")
    name = project or (example if example else root.name)
    if not _PROJECT_NAME.match(name):
        raise InvalidInput(f"project name {name!r}: use letters, digits, '_', '.', '-' (max 100)")

    root.mkdir(parents=True, exist_ok=True)
    (root / STATE_DIRNAME).mkdir(exist_ok=True)
    if example == "churn":
        from shipyard.examples.churn import create_example_workspace

        create_example_workspace(root, customers=customers)
    _write_atomic(root / CONFIG_FILENAME, default_toml(name))

    ws = Workspace.open(root)
    try:
        token = ws.tokens.create("init").secret
    finally:
        ws.close()
    return InitResult(root=root, project=name, token=token, example=example)


def _write_atomic(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
