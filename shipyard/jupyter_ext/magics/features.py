"""``%feature`` / ``%%feature``: search, show, get, define and build training frames from a notebook.

Every subcommand parses its words, calls one ``ws.features`` method and returns a display object: rich
HTML in JupyterLab (all text escaped), plain text in a terminal.
"""

from __future__ import annotations

import argparse
import html
import shlex
from collections.abc import Sequence
from typing import Any

from shipyard.errors import InvalidInput

USAGE = """%feature search TEXT | show NAME | get REF... --entity KEY=VALUE [...] | materialize
%feature frame ENTITY_DF_VAR (REF... | --service NAME) [--as VAR]
%%feature define [NAME] [--plan] [--yaml]   (cell body: Feast Python, or a YAML spec with --yaml)"""


class Table:
    """Rows under headers, shown as an HTML table in Jupyter and as aligned text elsewhere."""

    def __init__(
        self, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], note: str = ""
    ) -> None:
        self.title = title
        self.headers = list(headers)
        self.rows = [["" if v is None else str(v) for v in row] for row in rows]
        self.note = note

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in r) + "</tr>" for r in self.rows)
        note = f"<pre>{esc(self.note)}</pre>" if self.note else ""
        return f"<b>{esc(self.title)}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"

    def __repr__(self) -> str:
        widths = [max([len(h), *(len(r[i]) for r in self.rows)]) for i, h in enumerate(self.headers)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        out = [self.title, line(self.headers), *(line(r) for r in self.rows)]
        return "\n".join(out + ([self.note] if self.note else []))


def register(ipython: Any, session: Any) -> None:
    """Register ``%feature`` (line and cell) on ``ipython``."""

    def feature(line: str, cell: str | None = None) -> Any:
        words = shlex.split(line)
        if words in (["--help"], ["-h"], ["help"]) and cell is None:
            return USAGE
        if not words:
            raise InvalidInput(f"%feature needs a subcommand:\n{USAGE}")
        command, args = words[0], words[1:]
        features = session.workspace.features
        if command == "define":
            if cell is None:
                raise InvalidInput(
                    "define is a cell magic: put `%%feature define` on the first line of the cell"
                )
            opts = _parser("define", ("name", "?"), ("--plan", "flag"), ("--yaml", "flag")).parse_args(args)
            define = features.define_yaml if opts.yaml else features.define
            result = define(cell, opts.name, apply=not opts.plan)
            verb = "applied" if result.applied else "planned (not applied)"
            return Table(
                f"definition '{result.name}' {verb}",
                ["kind", "names"],
                [
                    ["entities", ", ".join(result.entities)],
                    ["feature views", ", ".join(result.feature_views)],
                    ["feature services", ", ".join(result.feature_services)],
                ],
                note=result.plan,
            )
        if cell is not None:
            raise InvalidInput(f"only `define` takes a cell body, not {command!r}")
        if command == "search":
            hits = features.search(" ".join(args))
            return Table(
                f"{len(hits)} match(es) for {' '.join(args)!r}",
                ["kind", "name", "description", "owner", "tags"],
                [[h.kind, h.name, h.description, h.owner, ", ".join(h.tags)] for h in hits],
            )
        if command == "show":
            if len(args) != 1:
                raise InvalidInput("usage: %feature show NAME (a feature view or view:feature)")
            return _detail_table(features.describe(args[0]), args[0])
        if command == "get":
            opts = _parser("get", ("refs", "+"), ("--entity", "append")).parse_args(args)
            rows = [_pair(e) for e in opts.entity or []]
            if not rows:
                raise InvalidInput("give at least one --entity KEY=VALUE, e.g. --entity customer_id=1001")
            frame = _masked(session.workspace, features.online_features(rows, opts.refs), opts.refs)
            return Table(
                f"online values ({len(frame)} entities)",
                list(frame.columns),
                frame.astype(object).where(frame.notna(), None).values.tolist(),
            )
        if command == "frame":
            opts = _parser(
                "frame", ("entity_df", 1), ("refs", "*"), ("--service", "one"), ("--as", "one")
            ).parse_args(args)
            name = opts.entity_df[0]
            if name not in ipython.user_ns:
                raise InvalidInput(f"no variable {name!r} in the notebook; create the entity DataFrame first")
            if bool(opts.refs) == bool(opts.service):
                raise InvalidInput("give feature refs (view:feature ...) or --service NAME, not both")
            refs = list(opts.refs) or features.feature_refs(opts.service)
            frame = _masked(
                session.workspace,
                features.training_frame(ipython.user_ns[name], opts.service or refs),
                refs,
            )
            ipython.user_ns[getattr(opts, "as") or "training_frame"] = frame
            return frame
        if command == "materialize":
            from shipyard.jupyter_ext.progress_display import ProgressBar

            bar: ProgressBar | None = None

            def progress(view: str, done: int, total: int) -> None:
                nonlocal bar
                if bar is None:
                    bar = ProgressBar("materializing feature views", total).start()
                bar.update(done, view)

            try:
                result = features.materialize(progress=progress)
            except BaseException:
                if bar is not None:
                    bar.finish(failed=True)
                raise
            if bar is not None:
                bar.finish()
            return Table(
                "materialized",
                ["feature views", "seconds"],
                [[", ".join(result.feature_views), result.duration_s]],
            )
        raise InvalidInput(f"unknown %feature subcommand {command!r}:\n{USAGE}")

    ipython.register_magic_function(feature, magic_kind="line_cell", magic_name="feature")


def _masked(ws: Any, frame: Any, refs: list[str]) -> Any:
    """Sensitive feature columns masked unless the notebook's user holds a grant (governance policy)."""
    from shipyard.governance.masking import mask_training_frame

    return mask_training_frame(ws, frame, refs)


def _detail_table(detail: Any, asked: str) -> Table:
    feature = asked.split(":", 1)[1] if ":" in asked else None
    rows = []
    for f in detail.features:
        if feature and f.name != feature:
            continue
        s = f.stats
        stats = (
            ""
            if s is None
            else (
                f"count {s.count}, nulls {s.nulls}, "
                + (f"top {s.top}" if s.top else f"min {s.min}, max {s.max}, mean {s.mean}")
            )
        )
        rows.append([f.ref, f.dtype, f.description, stats])
    fresh = detail.last_materialized.isoformat() if detail.last_materialized else "never materialized"
    note = "\n".join(
        [
            f"description: {detail.description}",
            f"owner: {detail.owner}   entities: {', '.join(detail.entities)} ({', '.join(detail.join_keys)})",
            f"source: {detail.source}   ttl: {detail.ttl_s}s   last materialized: {fresh}",
            f"online: {detail.online}   offline: {detail.offline}",
            f"feature services: {', '.join(detail.feature_services) or '-'}",
            f"quality checks: {'; '.join(detail.quality_checks) or '-'}",
            f"used by: {', '.join(u['kind'] + ' ' + u['name'] for u in detail.used_by) or '-'}",
        ]
    )
    return Table(
        f"feature view {detail.name}", ["feature", "dtype", "description", "offline stats"], rows, note
    )


def _parser(prog: str, *specs: tuple[str, Any]) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"%feature {prog}", add_help=False)
    for name, kind in specs:
        if kind == "flag":
            parser.add_argument(name, action="store_true")
        elif kind == "append":
            parser.add_argument(name, action="append")
        elif kind == "one":
            parser.add_argument(name)
        else:
            parser.add_argument(name, nargs=kind)
    return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit the kernel
        raise InvalidInput(f"{self.prog}: {message}\n{USAGE}")


def _pair(text: str) -> dict[str, Any]:
    """``customer_id=1001`` (or ``a=1,b=x`` for composite keys); numbers parse as JSON numbers."""
    import json

    row: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--entity {text!r}: expected KEY=VALUE, e.g. customer_id=1001")
        try:
            row[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            row[key.strip()] = raw
    return row
