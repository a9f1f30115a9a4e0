"""``shipyard lab``: JupyterLab in the workspace, with the Shipyard server and lab extensions enabled."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from shipyard.cli.common import WorkspaceOpt, handled, log


def register(app: typer.Typer) -> None:
    app.command("lab")(lab)


def lab_argv(root: str, port: int | None, browser: bool, ip: str, extra: list[str]) -> list[str]:
    """The ``jupyter lab`` command line for a workspace root (root may run it: CI and containers do).

    The Shipyard server extension is enabled by the config file installed with the package, not here: a
    ``jpserver_extensions`` flag would replace the installed set (jupyter-lsp, terminals...).
    """
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", f"--ServerApp.ip={ip}"]
    if port is not None:
        argv.append(f"--ServerApp.port={port}")
    if not browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    return argv + extra


def lab(
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default: Jupyter's, 8888).")
    ] = None,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open a browser tab when the server is up.")
    ] = True,
    ip: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    extra: Annotated[
        list[str] | None, typer.Argument(help="More `jupyter lab` options, after `--`.", show_default=False)
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Start JupyterLab in the workspace: copilot panel, feature browser, promote to pipeline, monitoring."""
    from shipyard.workspace import WORKSPACE_ENV, find_root

    with handled(False):
        root = find_root(workspace)
        argv = lab_argv(str(root), port, browser, ip, list(extra or []))
        log(f"JupyterLab in workspace {root} (Shipyard API at /shipyard/api/v1)")
        os.environ[WORKSPACE_ENV] = str(root)
        os.chdir(root)
        # exec: Ctrl-C, exit code and signals belong to JupyterLab itself, with no Python parent in between.
        os.execv(argv[0], argv)
