"""Command-line surface: a Typer app, one module per command group."""
