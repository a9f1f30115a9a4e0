"""MLflow autologging in notebooks: on after ``%load_ext shipyard``, against the workspace's tracking store.

``%autolog on|off|status`` switches it (a plain IPython shell, outside a notebook kernel, starts with it off). The workspace is opened on the first cell run (not at ``%load_ext``,
which stays instant); a notebook outside any workspace runs untracked until ``%shipyard_workspace PATH``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, ShipyardError

if TYPE_CHECKING:
    from shipyard.workspace import Workspace


class Autolog:
    """Keeps ``mlflow.sklearn.autolog`` pointed at the session's current workspace."""

    def __init__(self, session: Any, enabled: bool) -> None:
        self.session = session
        self.enabled = enabled
        self.configured_for: Path | None = None
        self.unavailable = ""

    def before_cell(self, *_: Any) -> None:
        """IPython ``pre_run_cell`` hook: (re)configure autologging when the workspace changed."""
        if not self.enabled:
            return
        try:
            ws = self.session.workspace
        except ShipyardError as exc:
            # No workspace yet (`%shipyard_workspace` may come later): stay quiet; `%autolog status` says why.
            self.unavailable = exc.message
            return
        self.unavailable = ""
        if self.configured_for != ws.root:
            self.configure(ws)

    def configure(self, ws: Workspace) -> None:
        """Point MLflow at ``ws`` and turn sklearn autologging on, tagging runs with the config hash."""
        import mlflow

        from shipyard.registry.lineage import TAG_CONFIG, UNKNOWN, sha256_file

        config_path = ws.root / "shipyard.toml"
        mlflow.set_tracking_uri(ws.registry.tracking_uri)
        mlflow.set_experiment(experiment_id=ws.registry.experiment_id)
        config_sha = sha256_file(config_path) if config_path.is_file() else UNKNOWN
        mlflow.sklearn.autolog(
            log_models=False, log_datasets=False, silent=True, extra_tags={TAG_CONFIG: config_sha}
        )
        self.configured_for = ws.root

    def switch(self, line: str) -> str:
        """``%autolog on|off|status``."""
        word = line.strip().lower() or "status"
        if word == "on":
            self.enabled, self.unavailable, self.configured_for = True, "", None
            self.before_cell()
        elif word == "off":
            import mlflow

            mlflow.sklearn.autolog(disable=True)
            self.enabled, self.configured_for = False, None
        elif word != "status":
            raise InvalidInput(f"%autolog takes on, off or status, not {line.strip()!r}")
        return self.status()

    def status(self) -> str:
        """One line saying whether notebook runs are being logged, and where."""
        if not self.enabled:
            return "autolog off (`%autolog on` to log sklearn fits to the workspace)"
        if self.unavailable:
            return f"autolog waiting for a workspace: {self.unavailable}"
        if self.configured_for is None:
            return "autolog on (configured on the next cell run)"
        return f"autolog on: sklearn fits are logged to the workspace at {self.configured_for}"


def register(ipython: Any, session: Any) -> Autolog:
    """Register ``%autolog``; in a notebook kernel, turn autologging on for every following cell."""
    # Only a kernel (a notebook) starts with it on: a plain IPython shell embedded in a script or a test
    # must not have its sklearn fits logged behind its back.
    autolog = Autolog(session, enabled=getattr(ipython, "kernel", None) is not None)
    ipython.register_magic_function(autolog.switch, magic_kind="line", magic_name="autolog")
    ipython.events.register("pre_run_cell", autolog.before_cell)
    return autolog
