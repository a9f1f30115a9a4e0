"""Audit for the magics: every state-changing magic writes the same hash-chained record as the CLI does.

One mechanism for every magic group: ``register_all`` hands each group an ``AuditingShell`` instead of the
real shell, so a new magic is audited by adding its subcommand to ``MAGIC_ACTIONS``, not by code in it.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable
from typing import Any

from shipyard.errors import ShipyardError

# (magic, first word of its line or "*" for any) -> audit action. Read-only magics are absent.
MAGIC_ACTIONS: dict[tuple[str, str], str] = {
    ("feature", "define"): "features.define",
    ("feature", "materialize"): "features.materialize",
    ("deploy", "*"): "deployments.deploy",
    ("pipeline", "promote"): "pipelines.promote",
    ("pipeline", "run"): "pipelines.run",
    ("monitor", "run"): "monitor.run",
    ("monitor", "schedule"): "monitor.schedule",
}
_HELP = {"help", "--help", "-h", "?"}


def magic_action(magic: str, line: str) -> str | None:
    """The audit action of ``%magic line``, or None for a read, a help request or an unparsable line."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None  # the magic itself reports the parse error; nothing ran
    if not words or words[0] in _HELP:
        return None
    return MAGIC_ACTIONS.get((magic, words[0])) or MAGIC_ACTIONS.get((magic, "*"))


def audited(magic: str, fn: Callable[..., Any], session: Any) -> Callable[..., Any]:
    """``fn`` recording an ``allowed`` audit record before it runs (a failed append refuses it) and a
    ``failed`` one if it raises a ShipyardError."""

    @functools.wraps(fn)
    def run(line: str, *args: Any, **kwargs: Any) -> Any:
        action = magic_action(magic, line)
        if action is None:
            return fn(line, *args, **kwargs)
        _record(session, action, magic, line, "allowed")
        try:
            return fn(line, *args, **kwargs)
        except ShipyardError as exc:
            _record(session, action, magic, line, "failed", exc.message)
            raise

    return run


def _record(session: Any, action: str, magic: str, line: str, outcome: str, error: str | None = None) -> None:
    from shipyard.governance.service import cli_actor, governance_for

    ws = session.workspace
    payload: dict[str, Any] = {"magic": f"%{magic} {line}".strip()}
    if error is not None:
        payload["error"] = error
    words = line.split()
    target = words[1] if len(words) > 1 and (magic, "*") not in MAGIC_ACTIONS else (words[0] if words else "")
    governance_for(ws).audit.append(cli_actor(), ws.project, action, target, outcome, payload)


class AuditingShell:
    """The IPython shell as a magic group sees it: registrations go through ``audited``."""

    def __init__(self, ipython: Any, session: Any) -> None:
        self._ipython = ipython
        self._session = session

    def register_magic_function(
        self, func: Callable[..., Any], magic_kind: str = "line", magic_name: str | None = None
    ) -> None:
        name = magic_name or func.__name__
        self._ipython.register_magic_function(audited(name, func, self._session), magic_kind, name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._ipython, attr)
