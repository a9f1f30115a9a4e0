"""The ``shipyard`` command. Command modules import engines inside their functions, so --help stays fast."""

from __future__ import annotations

import typer

import shipyard
from shipyard.cli import (
    access_cmd,
    audit_cmd,
    catalog_cmd,
    copilot_cmd,
    demo_cmd,
    deploy_cmd,
    features_cmd,
    init_cmd,
    lab_cmd,
    models_cmd,
    monitor_cmd,
    pipeline_cmd,
    server_cmd,
    token_cmd,
    train_cmd,
)

app = typer.Typer(
    name="shipyard",
    help="Shipyard: from notebook to a governed, monitored production endpoint.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(shipyard.__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Shipyard: from notebook to a governed, monitored production endpoint."""


init_cmd.register(app)
server_cmd.register(app)
demo_cmd.register(app)
deploy_cmd.register(app)
train_cmd.register(app)
lab_cmd.register(app)
app.add_typer(token_cmd.app, name="token")
app.add_typer(features_cmd.app, name="features")
app.add_typer(pipeline_cmd.app, name="pipeline")
app.add_typer(models_cmd.app, name="models")
app.add_typer(monitor_cmd.app, name="monitor")
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(copilot_cmd.app, name="copilot")
app.add_typer(access_cmd.app, name="access")
app.add_typer(audit_cmd.app, name="audit")


def run() -> None:
    """Console-script entry point."""
    app()
