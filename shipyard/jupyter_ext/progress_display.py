"""Progress for long magics (materialize, deploy, pipeline runs) that updates in place in JupyterLab.

In a Jupyter kernel with ipywidgets installed the bar is an ``IntProgress`` widget (JupyterLab redraws it in
place as the comm messages arrive). Anywhere else it is an ordinary display object updated through IPython's
``display_id``: HTML ``<progress>`` in a notebook frontend, one text line per update in a terminal. When the
work ends, ``finish`` replaces the widget by that static display, so a saved or converted notebook shows the
outcome as HTML/text rather than a widget that needs a live kernel.
"""

from __future__ import annotations

import html
from typing import Any, Literal

Mode = Literal["widget", "display"]


def widgets_available(shell: Any = None) -> bool:
    """True when ipywidgets imports and ``shell`` (default: the running IPython) is a kernel with comms."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    # Only a kernel shell (ipykernel's ZMQInteractiveShell) has a frontend that can open widget comms;
    # terminal IPython and plain InteractiveShell would print the widget's repr instead.
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class ProgressBar:
    """``done`` of ``total`` units of ``title``, with the name of the current unit."""

    def __init__(self, title: str, total: int, mode: Mode | None = None) -> None:
        self.title = title
        self.total = max(total, 0)
        self.done = 0
        self.current = ""
        self.state = "running"
        self.mode: Mode | None = mode
        self._handle: Any = None
        self._bar: Any = None
        self._label: Any = None
        self._box: Any = None

    @property
    def widget(self) -> Any:
        """The ipywidgets box while the bar is live in widget mode, else None."""
        return self._box

    def start(self) -> ProgressBar:
        """Show the bar at 0 (a widget in a kernel with ipywidgets, else a display object)."""
        from IPython.display import display

        if self.mode is None:
            self.mode = "widget" if widgets_available() else "display"
        if self.mode == "widget":
            import ipywidgets as w

            self._bar = w.IntProgress(value=0, min=0, max=max(self.total, 1), bar_style="info")
            self._label = w.Label(value=self._status())
            self._box = w.HBox([w.Label(value=self.title), self._bar, self._label])
            self._handle = display(self._box, display_id=True)
        else:
            self._handle = display(self, display_id=True)
        return self

    def update(self, done: int, current: str = "") -> None:
        """Move the bar to ``done`` units, naming the unit just finished (or now running)."""
        self.done = min(max(done, 0), self.total) if self.total else done
        self.current = current
        if self._box is not None:
            self._bar.value = min(self.done, self._bar.max)
            self._label.value = self._status()
        elif self._handle is not None:
            self._handle.update(self)

    def finish(self, failed: bool = False, note: str = "") -> None:
        """End the bar: the widget (if any) gives way to the static display of the final state."""
        self.state = "failed" if failed else "done"
        if note:
            self.current = note
        if self._box is not None:
            self._bar.bar_style = "danger" if failed else "success"
            self._bar.value = min(self.done, self._bar.max)
            self._label.value = self._status()
            for widget in (self._box, self._bar, self._label):
                widget.close()
            self._box = None
        if self._handle is not None:
            self._handle.update(self)

    def _status(self) -> str:
        mark = "" if self.state == "running" else f" [{self.state}]"
        return f"{self.done}/{self.total} {self.current}".rstrip() + mark

    def _repr_html_(self) -> str:
        esc = html.escape
        return (
            f"<div><b>{esc(self.title)}</b> <progress value='{self.done}' max='{max(self.total, 1)}'></progress>"
            f" {esc(self._status())}</div>"
        )

    def __repr__(self) -> str:
        return f"{self.title}: {self._status()}"
