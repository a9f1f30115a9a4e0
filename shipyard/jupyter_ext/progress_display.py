"""A progress line for long magics (materialize, deploy, pipeline runs) that updates in place in JupyterLab.

It is an ordinary display object updated through IPython's ``display_id``: JupyterLab redraws one HTML
``<progress>`` element; a terminal IPython prints one text line per update. No widget library is needed, so
it works in every frontend and in nbclient-executed notebooks alike.
"""

from __future__ import annotations

import html
from typing import Any


class ProgressBar:
    """``done`` of ``total`` units of ``title``, with the name of the current unit."""

    def __init__(self, title: str, total: int) -> None:
        self.title = title
        self.total = max(total, 0)
        self.done = 0
        self.current = ""
        self._handle: Any = None

    def start(self) -> ProgressBar:
        """Show the bar at 0 (a no-op outside IPython)."""
        from IPython.display import display

        self._handle = display(self, display_id=True)
        return self

    def update(self, done: int, current: str = "") -> None:
        """Move the bar to ``done`` units, naming the unit just finished."""
        self.done = min(max(done, 0), self.total) if self.total else done
        self.current = current
        if self._handle is not None:
            self._handle.update(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        return (
            f"<div><b>{esc(self.title)}</b> <progress value='{self.done}' max='{max(self.total, 1)}'></progress>"
            f" {self.done}/{self.total} {esc(self.current)}</div>"
        )

    def __repr__(self) -> str:
        return f"{self.title}: {self.done}/{self.total} {self.current}".rstrip()
