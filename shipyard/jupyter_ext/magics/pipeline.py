"""``%pipeline promote|run|list|runs``: promote tagged cells to a Dagster pipeline and run it from the kernel."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shipyard.bridge.models import STARTED
from shipyard.errors import InvalidInput
from shipyard.jupyter_ext.magics.deploy import Rows, _Parser
from shipyard.jupyter_ext.progress_display import ProgressBar, widgets_available

USAGE = """%pipeline promote [NOTEBOOK] [--name NAME] [--cells 3-7,9] [--preview]
%pipeline run NAME [--param KEY=VALUE ...] [--force]
%pipeline list | runs NAME [--limit N]
(NOTEBOOK defaults to the notebook this kernel belongs to)"""

# Jupyter Server tells each kernel which notebook it serves; that is the default notebook to promote.
SESSION_ENV = "JPY_SESSION_NAME"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%pipeline", add_help=False)
    sub = parser.add_subparsers(dest="command")
    promote = sub.add_parser("promote", add_help=False)
    promote.add_argument("notebook", nargs="?")
    promote.add_argument("--name", default=None)
    promote.add_argument("--cells", default=None)
    promote.add_argument("--preview", action="store_true")
    run = sub.add_parser("run", add_help=False)
    run.add_argument("name")
    run.add_argument("--param", action="append", default=[])
    run.add_argument("--force", action="store_true")
    sub.add_parser("list", add_help=False)
    runs = sub.add_parser("runs", add_help=False)
    runs.add_argument("name")
    runs.add_argument("--limit", type=int, default=10)
    for p in (parser, promote, run, runs):
        p.error = _raise  # type: ignore[method-assign]
    return parser


def _raise(message: str) -> Any:
    raise ValueError(message)


def parse_pipeline_line(line: str) -> argparse.Namespace:
    """Parse a ``%pipeline`` line; errors name the line and show the usage."""
    try:
        ns = _parser().parse_args(shlex.split(line))
    except ValueError as exc:
        raise InvalidInput(f"%pipeline {line!r}: {exc}\nusage:\n{USAGE}") from exc
    if ns.command is None:
        raise InvalidInput(f"%pipeline needs a subcommand\nusage:\n{USAGE}")
    if ns.command == "run":
        ns.params = parse_params(ns.param)
    if ns.command == "promote" and ns.cells is not None:
        ns.cells = [c.strip() for c in ns.cells.split(",") if c.strip()]
    return ns


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``["n=10", "label=churned"]`` -> ``{"n": 10, "label": "churned"}`` (JSON values when they parse)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                f"%pipeline run --param {pair!r}: expected KEY=VALUE, e.g. --param n_estimators=200"
            )
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def notebook_path(arg: str | None, root: Path) -> Path:
    """The notebook to promote: the argument (cwd, then workspace relative) or this kernel's notebook."""
    if arg is None:
        session = os.environ.get(SESSION_ENV, "")
        if not session:
            raise InvalidInput(
                "%pipeline promote: name the notebook (e.g. %pipeline promote train.ipynb); this kernel does not "
                f"know its notebook (${SESSION_ENV} is unset outside Jupyter)"
            )
        arg = session
    path = Path(arg).expanduser()
    for candidate in (path, Path.cwd() / path, root / path):
        if candidate.is_file():
            return candidate.resolve()
    raise InvalidInput(
        f"%pipeline promote: notebook {arg!r} not found in {Path.cwd()} or the workspace {root}"
    )


def promote_rows(result: Any) -> Rows:
    """The promote result (or preview) as a table: one row per step."""
    rows = [
        [
            step.name,
            ",".join(str(c) for c in step.cells),
            ",".join(step.after) or "-",
            ",".join(step.parameters) or "-",
        ]
        for step in result.steps
    ]
    verb = "promoted" if result.applied else "preview of"
    notes = "".join(f"\nwarning: {w}" for w in result.warnings)
    return Rows(["step", "cells", "after", "parameters"], rows, title=f"{verb} pipeline {result.name}{notes}")


def run_rows(result: Any) -> Rows:
    """A run as a table: one row per step with status and time."""
    rows = [
        [s.name, s.status, f"{s.duration_s:.2f}s" if s.duration_s is not None else "-", s.error or ""]
        for s in result.steps
    ]
    return Rows(["step", "status", "duration", "error"], rows, title=f"run {result.run_id}: {result.status}")


class RunProgress:
    """Step events of a run: a live widget bar in JupyterLab (steps ended of all steps), else text lines."""

    def __init__(self, name: str, count_steps: Callable[[], int], widget: bool | None = None) -> None:
        self.name = name
        self.ended: list[str] = []
        self.bar: ProgressBar | None = None
        if widget if widget is not None else widgets_available():
            self.bar = ProgressBar(f"pipeline {name}", count_steps(), mode="widget").start()

    def __call__(self, step: Any) -> None:
        if self.bar is None:
            print(f"step {step.name}: {step.status}", file=sys.stdout, flush=True)
            return
        if step.status == STARTED:
            self.bar.update(len(self.ended), f"{step.name} running ...")
            return
        if step.name not in self.ended:
            self.ended.append(step.name)
        self.bar.update(len(self.ended), f"{step.name}: {step.status}")

    def finish(self, failed: bool = False) -> None:
        """End the widget bar with the run's outcome."""
        if self.bar is not None and self.bar.state == "running":
            self.bar.finish(failed=failed)


def register(ipython: Any, session: Any) -> None:
    """Register ``%pipeline``."""

    def pipeline(line: str) -> Rows | str:
        if line.strip() in {"--help", "-h", "help"}:
            return USAGE
        ns = parse_pipeline_line(line)
        ws = session.workspace
        if ns.command == "promote":
            path = notebook_path(ns.notebook, ws.root)
            action = ws.pipelines.preview if ns.preview else ws.pipelines.promote
            return promote_rows(action(path, ns.name, ns.cells))
        if ns.command == "run":
            progress = RunProgress(ns.name, lambda: len(ws.pipelines.spec(ns.name).get("steps", [])))
            try:
                result = ws.pipelines.run(ns.name, ns.params, force=ns.force, progress=progress)
            except BaseException:
                progress.finish(failed=True)
                raise
            progress.finish(failed=result.status != "succeeded")
            return run_rows(result)
        if ns.command == "list":
            return Rows(["pipeline"], [[name] for name in ws.pipelines.list_pipelines()], title="pipelines")
        runs = ws.pipelines.list_runs(ns.name, ns.limit)
        return Rows(
            ["run", "status", "steps"],
            [[r.run_id, r.status, str(len(r.steps))] for r in runs],
            title=f"runs of {ns.name}",
        )

    ipython.register_magic_function(pipeline, magic_kind="line", magic_name="pipeline")
