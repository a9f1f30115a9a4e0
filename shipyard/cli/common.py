"""Options every command shares, output formatting, and the one error-to-exit-code mapping."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.errors import InvalidInput, ShipyardError

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="SHIPYARD_WORKSPACE",
        help="Workspace folder (default: nearest shipyard.toml upward from the current directory).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def to_jsonable(value: Any) -> Any:
    """Dataclasses, pydantic models, paths and datetimes to plain JSON types."""
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def emit(result: Any, as_json: bool, render: Callable[[Any], str] | None = None) -> None:
    """Print ``result`` as one JSON document, or as human text from ``render``."""
    if as_json:
        typer.echo(json.dumps(to_jsonable(result), indent=None, sort_keys=False))
    else:
        typer.echo(render(result) if render else json.dumps(to_jsonable(result), indent=2))


def log(message: str) -> None:
    """Progress for people: always stderr, so stdout stays one JSON document with --json."""
    typer.echo(message, err=True)


@contextmanager
def handled(as_json: bool) -> Iterator[None]:
    """Map ``ShipyardError`` to exit code 1 or 2, with the message on stderr (and the envelope on stdout)."""
    try:
        yield
    except ShipyardError as exc:
        if as_json:
            typer.echo(json.dumps(to_jsonable(exc.to_dict())))
        typer.secho(f"error: {exc.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exc.exit_code) from exc
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True, fg=typer.colors.YELLOW)
        raise typer.Exit(130) from None


def parse_pairs(pairs: list[str], option: str) -> dict[str, Any]:
    """``k=v`` pairs to a dict; values parse as JSON when they can (numbers, booleans), else stay strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{option} {pair!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
