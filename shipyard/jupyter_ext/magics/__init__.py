"""IPython magics, one module per group (``features``, ``deploy``, ``monitor``...).

Each module defines ``register(ipython, session)``; ``register_all`` discovers the modules in this package,
so adding a group is adding a file. ``MagicSession`` holds the workspace the magics act on, opened lazily on
first use so ``%load_ext shipyard`` itself stays instant.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from shipyard.workspace import Workspace


class MagicSession:
    """The workspace behind the magics of one IPython shell (``%shipyard_workspace PATH`` switches it)."""

    def __init__(self) -> None:
        self._workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace.open()
        return self._workspace

    def use(self, path: str) -> Workspace:
        """Switch to the workspace at ``path``."""
        if self._workspace is not None:
            self._workspace.close()
        self._workspace = Workspace.open(path)
        return self._workspace


def register_all(ipython: Any) -> MagicSession:
    """Register every magic group found in this package with ``ipython``."""
    session = MagicSession()
    ipython.register_magic_function(
        lambda line: str(session.use(line.strip()).root), magic_kind="line", magic_name="shipyard_workspace"
    )
    from shipyard.jupyter_ext.magic_audit import AuditingShell

    # Every group registers through the auditing shell, so state-changing magics are audited in one place.
    shell = AuditingShell(ipython, session)
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(shell, session)
    return session
