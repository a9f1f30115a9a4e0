"""Jupyter server extension: the Shipyard REST API under ``/shipyard/api/v1``, behind Jupyter's own auth.

``jupyter lab`` loads it automatically (``jupyter-config/jupyter_server_config.d/shipyard.json`` is installed
with the package). It finds the workspace from the server's root folder (the nearest ``shipyard.toml`` at or
above it, or ``$SHIPYARD_WORKSPACE``) and builds the FastAPI app once; the handlers in ``handlers.py`` forward
each authenticated request to it in-process. Nothing heavy is imported here, so loading stays instant.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shipyard.workspace import Workspace

STATE_KEY = "shipyard"


@dataclass
class LabState:
    """The workspace behind one Jupyter server, opened lazily on the first API call."""

    root_dir: Path
    error: str | None = None
    _workspace: Workspace | None = None
    _app: FastAPI | None = None
    _tokens: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def workspace_root(self) -> Path | None:
        """The workspace folder this server serves, or None (``error`` then says why)."""
        from shipyard.errors import ShipyardError
        from shipyard.workspace import find_root

        try:
            return find_root() if _env_workspace() else _nearest_workspace(self.root_dir)
        except ShipyardError as exc:
            self.error = exc.message
            return None

    def app(self) -> FastAPI:
        """The in-process Shipyard API app; raises ``NotFound`` when no workspace encloses the server root."""
        with self._lock:
            if self._app is None:
                from shipyard.errors import NotFound
                from shipyard.server.app import create_app
                from shipyard.workspace import Workspace

                root = self.workspace_root()
                if root is None:
                    raise NotFound(
                        self.error
                        or f"no shipyard.toml at or above {self.root_dir}; start JupyterLab with `shipyard lab` "
                        "inside a workspace, or run `shipyard init PATH` first"
                    )
                self._workspace = Workspace.open(root)
                self._app = create_app(self._workspace, close_on_shutdown=False)
            return self._app

    def token_for(self, user: str) -> str:
        """A bearer token for a Jupyter user, created once per server process (named ``jupyter:USER``)."""
        self.app()
        with self._lock:
            secret = self._tokens.get(user)
            if secret is None:
                assert self._workspace is not None
                secret = self._workspace.tokens.create(f"jupyter:{user}").secret
                self._tokens[user] = secret
            return secret

    def status(self) -> dict[str, Any]:
        """What the frontend shows before anything else: which workspace, or why there is none."""
        import shipyard

        root = self._workspace.root if self._workspace is not None else self.workspace_root()
        return {
            "version": shipyard.__version__,
            "workspace": str(root) if root is not None else None,
            "api": "/shipyard/api/v1",
            "message": None if root is not None else self.error,
        }

    def close(self) -> None:
        """Close the workspace's engines (server shutdown)."""
        with self._lock:
            if self._workspace is not None:
                self._workspace.close()
            self._workspace = None
            self._app = None
            self._tokens.clear()


def _env_workspace() -> bool:
    import os

    from shipyard.workspace import WORKSPACE_ENV

    return bool(os.environ.get(WORKSPACE_ENV))


def _nearest_workspace(start: Path) -> Path:
    from shipyard.config import CONFIG_FILENAME
    from shipyard.errors import NotFound

    here = start.expanduser().resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILENAME).is_file():
            return candidate
    raise NotFound(
        f"no {CONFIG_FILENAME} at or above the Jupyter root {here}; run `shipyard lab` inside a workspace "
        "(or `shipyard init PATH` to create one)"
    )


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell Jupyter Server which module holds the extension."""
    return [{"module": "shipyard.jupyter_ext.server_extension"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the handlers on the server's web app (called once by Jupyter Server)."""
    from jupyter_server.utils import url_path_join

    from shipyard.jupyter_ext.handlers import ApiProxyHandler, StatusHandler

    state = LabState(Path(server_app.root_dir))
    web_app = server_app.web_app
    web_app.settings[STATE_KEY] = state
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "shipyard", "status"), StatusHandler),
            (url_path_join(base, "shipyard", "api", "v1", "(.*)"), ApiProxyHandler),
        ],
    )
    root = state.workspace_root()
    where = f"workspace {root}" if root is not None else f"no workspace ({state.error})"
    server_app.log.info("Shipyard extension loaded: /shipyard/api/v1 -> %s", where)
    # Jupyter Server has no unload hook for module extensions; close the engines when the process exits.
    atexit.register(state.close)
