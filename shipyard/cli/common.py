"""Options every command shares, output formatting, and the one error-to-exit-code mapping."""

from __future__ import annotations

import dataclasses
import json
import re
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


# Every state-changing command, by its function (``module.function`` under shipyard.cli) -> audited action.
# ``handled`` appends the record before the command's body runs (fail closed), as the OS user; a command
# missing here and from READ_ONLY_COMMANDS fails tests/unit/cli/test_cli_audit.py.
AUDITED_COMMANDS: dict[str, str] = {
    "init_cmd.init": "workspace.init",
    "demo_cmd.demo": "demo.run",
    "deploy_cmd.deploy": "deployments.deploy",
    "deploy_cmd.rollback": "deployments.rollback",
    "deploy_cmd.delete": "deployments.delete",
    "train_cmd.train": "training.run",
    "token_cmd.create": "token.create",
    "token_cmd.revoke": "token.revoke",
    "features_cmd.apply": "features.apply",
    "features_cmd.materialize": "features.materialize",
    "pipeline_cmd.promote": "pipelines.promote",
    "pipeline_cmd.run": "pipelines.run",
    "models_cmd.promote": "models.promote",
    "monitor_cmd.profile": "monitor.profile",
    "monitor_cmd.labels": "monitor.labels",
    "monitor_cmd.configure": "monitor.configure",
    "monitor_cmd.run": "monitor.run",
    "monitor_cmd.schedule": "monitor.schedule",
    "catalog_cmd.register": "catalog.register",
    "catalog_cmd.sync": "catalog.sync",
    "catalog_cmd.import_dbt": "catalog.import_dbt",
    "catalog_cmd.import_sql": "catalog.import_sql",
    "catalog_cmd.enrich": "catalog.enrich",
    "catalog_cmd.accept": "catalog.accept",
    "copilot_cmd.index": "copilot.index",
    "access_cmd.user_add": "access.user_add",
    "access_cmd.user_disable": "access.user_disable",
    "access_cmd.bind": "access.bind",
    "access_cmd.unbind": "access.unbind",
    "access_cmd.grant": "access.grant",
    "access_cmd.mask_tag": "access.mask_policy",
    "audit_cmd.checkpoint": "audit.checkpoint",
}
# Commands that change nothing in the workspace (reads, reports to a file, or long-running servers whose own
# requests are audited by the REST layer).
READ_ONLY_COMMANDS: frozenset[str] = frozenset(
    {
        "server_cmd.server", "lab_cmd.lab", "deploy_cmd.predict", "deploy_cmd.deployments",
        "deploy_cmd.list_deployments", "deploy_cmd.show", "token_cmd.list_tokens", "features_cmd.views",
        "features_cmd.list_views", "features_cmd.search", "features_cmd.show", "features_cmd.get",
        "features_cmd.training_frame", "pipeline_cmd.list_pipelines", "pipeline_cmd.show",
        "pipeline_cmd.runs", "pipeline_cmd.serve", "models_cmd.list_models", "models_cmd.show",
        "monitor_cmd.drift", "monitor_cmd.deployment", "monitor_cmd.report", "monitor_cmd.performance",
        "monitor_cmd.latency", "monitor_cmd.status", "catalog_cmd.search", "catalog_cmd.show",
        "catalog_cmd.lineage", "copilot_cmd.ask", "copilot_cmd.evaluate", "access_cmd.users",
        "access_cmd.projects", "access_cmd.bindings", "audit_cmd.verify", "audit_cmd.export",
        "audit_cmd.tail",
    }
)  # fmt: skip
# Commands that create the workspace (and so the chain): recorded once it exists -> where it is.
_CREATES_WORKSPACE = {"workspace.init": "path", "demo.run": "workspace"}
_TARGET_PARAMS = ("name", "model", "user", "tag", "prefix", "file", "source", "manifest", "notebook", "path")
_SECRET_URL = re.compile(r"(//)[^/@\s]+@")


def command_key(function: Callable[..., Any]) -> str:
    """``access_cmd.user_add`` for ``shipyard.cli.access_cmd.user_add`` (the key of the tables above)."""
    return f"{function.__module__.rpartition('.')[2]}.{function.__name__}"


def _current_command() -> tuple[str, dict[str, Any]] | None:
    # Typer 0.29 vendors click; its context stack is where the running command and its parameters live.
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None or ctx.command.callback is None:
        return None
    callback = getattr(ctx.command.callback, "__wrapped__", ctx.command.callback)
    return command_key(callback), dict(ctx.params)


def _audit_payload(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("workspace", "as_json") or value is None:
            continue
        value = to_jsonable(value)
        # Credentials in a database URL never reach the log.
        if isinstance(value, str):
            value = _SECRET_URL.sub(r"\1***@", value)
        elif isinstance(value, list):
            value = [_SECRET_URL.sub(r"\1***@", v) if isinstance(v, str) else v for v in value]
        out[key] = value
    return out


def _record(action: str, params: dict[str, Any], outcome: str, extra: dict[str, Any] | None = None) -> None:
    from shipyard.governance.service import cli_actor, governance_for
    from shipyard.workspace import Workspace

    where = params.get(_CREATES_WORKSPACE.get(action, "workspace"))
    with Workspace.open(where) as ws:
        project = str(params.get("project") or ws.project)
        target = next((str(params[k]) for k in _TARGET_PARAMS if params.get(k) is not None), "")
        payload = {**_audit_payload(params), **(extra or {})}
        governance_for(ws).audit.append(cli_actor(), project, action, target, outcome, payload)


@contextmanager
def handled(as_json: bool) -> Iterator[None]:
    """Map ``ShipyardError`` to exit code 1 or 2, with the message on stderr (and the envelope on stdout).

    A state-changing command (``AUDITED_COMMANDS``) is audited here, as the OS user: the record is appended
    before the body runs, so a failing append refuses the command; a body that fails adds a ``failed`` record.
    """
    command = _current_command()
    action = AUDITED_COMMANDS.get(command[0]) if command is not None else None
    params = command[1] if command is not None else {}
    before = action is not None and action not in _CREATES_WORKSPACE
    try:
        if before:
            _record(str(action), params, "allowed")
        try:
            yield
        except ShipyardError as exc:
            if before:
                _record(str(action), params, "failed", {"error": exc.message})
            raise
        if action is not None and not before:
            _record(action, params, "allowed")
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
