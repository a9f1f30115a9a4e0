"""``%deploy NAME@REF [--name DEPLOYMENT]`` with step-by-step progress, and ``%models`` (the registry)."""

from __future__ import annotations

import argparse
import html
import shlex
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from shipyard.errors import InvalidInput
from shipyard.jupyter_ext.progress_display import ProgressBar, widgets_available

USAGE = """%deploy NAME[@ALIAS|@VERSION] [--name DEPLOYMENT]   (ALIAS defaults to champion)
%models [NAME]                                     (registered models: versions, aliases, metrics)
Each deploy stage shows as it runs: a live progress bar in JupyterLab, one text line each elsewhere."""
HELP = {"--help", "-h", "help"}

STAGE_LABELS = {
    "resolve": "resolve model and feature refs",
    "load_and_export": "verify artifact, export to ONNX",
    "parity": "numeric parity check",
    "triton_start": "start Triton",
    "repository_and_load": "write model repository, load",
    "smoke_inference": "smoke inference on Triton",
    "record": "record deployment, register for monitoring",
}
# Stages that run only on some machines, numbered after the stage they follow: (follows, label).
EXTRA_STAGES = {"tensorrt_parity": ("parity", "TensorRT parity check (GPU)")}


@dataclass(frozen=True)
class Rows:
    """A small table that renders as HTML in a notebook and as text elsewhere."""

    columns: list[str]
    rows: list[list[str]]
    title: str = ""

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in self.rows
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        lines = [self.title] if self.title else []
        lines.append("  ".join(self.columns))
        lines += ["  ".join(str(v) for v in row) for row in self.rows]
        return "\n".join(lines)


class StageProgress:
    """Shows each deploy stage as it starts and ends: a live widget bar in JupyterLab, else one text line each."""

    def __init__(self, out: TextIO | None = None, widget: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.seen: list[tuple[str, str, float | None]] = []
        use_widget = widgets_available() if widget is None else widget
        self.bar = ProgressBar("deploying", len(STAGE_LABELS), mode="widget").start() if use_widget else None

    def __call__(self, stage: str, state: str, seconds: float | None) -> None:
        self.seen.append((stage, state, seconds))
        follows, label = EXTRA_STAGES.get(stage, ("", STAGE_LABELS.get(stage, stage)))
        if stage in STAGE_LABELS:
            step = str(list(STAGE_LABELS).index(stage) + 1)
        elif follows:
            step = f"{list(STAGE_LABELS).index(follows) + 1}+"
        else:
            step = "?"
        if self.bar is not None:
            done = sum(1 for s, st, _ in self.seen if st == "done" and s in STAGE_LABELS)
            if state == "start":
                self.bar.update(done, f"{label} ...")
            elif state == "done":
                self.bar.update(done, f"{label}: done in {seconds or 0:.2f}s")
            else:
                self.bar.finish(failed=True, note=f"{label}: FAILED after {seconds or 0:.2f}s")
            return
        if state == "start":
            print(f"[{step}/{len(STAGE_LABELS)}] {label} ...", file=self.out, flush=True)
        else:
            mark = "done" if state == "done" else "FAILED"
            print(
                f"[{step}/{len(STAGE_LABELS)}] {label}: {mark} in {seconds or 0:.2f}s",
                file=self.out,
                flush=True,
            )

    def finish(self, failed: bool = False) -> None:
        """End the widget bar (a no-op for text lines, which are already complete)."""
        if self.bar is not None and self.bar.state == "running":
            self.bar.finish(failed=failed, note="" if failed else "deployed")


def parse_deploy_line(line: str) -> tuple[str, str, str | None]:
    """``churn@champion --name churn-api`` -> ("churn", "champion", "churn-api")."""
    parser = _Parser(prog="%deploy", add_help=False)
    parser.add_argument("model")
    parser.add_argument("--name", default=None)
    try:
        ns = parser.parse_args(shlex.split(line))
    except ValueError as exc:
        raise InvalidInput(f"%deploy {line!r}: {exc}; usage: %deploy NAME@ALIAS [--name DEPLOYMENT]") from exc
    name, _, ref = ns.model.partition("@")
    if not name:
        raise InvalidInput(
            f"%deploy {line!r}: expected NAME, NAME@ALIAS or NAME@VERSION, e.g. churn@champion"
        )
    return name, ref or "champion", ns.name


def register(ipython: Any, session: Any) -> None:
    """Register ``%deploy`` and ``%models``."""

    def deploy(line: str) -> Rows | str:
        if line.strip() in HELP:
            return USAGE
        model, ref, name = parse_deploy_line(line)
        progress = StageProgress()
        try:
            info = session.workspace.deployments.deploy(model, ref, name, progress=progress)
        except BaseException:
            progress.finish(failed=True)
            raise
        progress.finish()
        return Rows(
            ["deployment", "model", "version", "parity max abs diff", "endpoint"],
            [
                [
                    info.name,
                    info.model_name,
                    info.model_version,
                    f"{info.parity_max_abs_diff:.2e}",
                    f"POST /api/v1/deployments/{info.name}/predict",
                ]
            ],
            title=f"deployed {info.name}",
        )

    def models(line: str) -> Rows | str:
        wanted = line.strip()
        if wanted in HELP:
            return USAGE
        found = [m for m in session.workspace.registry.list_models() if not wanted or m.name == wanted]
        return Rows(
            ["model", "version", "aliases", "metrics", "run"],
            [
                [
                    m.name,
                    m.version,
                    ",".join(m.aliases) or "-",
                    ", ".join(f"{k}={v:.4g}" for k, v in sorted(m.metrics.items())) or "-",
                    m.run_id[:8],
                ]
                for m in found
            ],
            title="registered models" + (f" named {wanted!r}" if wanted else ""),
        )

    ipython.register_magic_function(deploy, magic_kind="line", magic_name="deploy")
    ipython.register_magic_function(models, magic_kind="line", magic_name="models")


class _Parser(argparse.ArgumentParser):
    # argparse exits the process on a bad line; a magic must raise instead.
    def error(self, message: str) -> Any:  # type: ignore[override]
        raise ValueError(message)
