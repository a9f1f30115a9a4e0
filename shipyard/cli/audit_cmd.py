"""``shipyard audit verify|export|checkpoint``: the tamper-evident audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

app = typer.Typer(help="Verify and export the hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify an export instead of the live log.")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every link and signed checkpoint; exit 1 naming the first bad record."""
    from shipyard.governance.audit import load_key, read_export, verify_chain
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        ws = Workspace.open(workspace)
        if file is not None:
            entries, checkpoints = read_export(file)
            report = verify_chain(entries, checkpoints, load_key(ws.state_dir))
        else:
            report = governance_for(ws).audit.verify()
        emit(
            report,
            as_json,
            lambda r: (
                f"ok: {r.records} records, {r.checkpoints} signed checkpoints"
                if r.ok
                else f"FAILED at record {r.first_bad}: {r.problem}"
            ),
        )
        if not report.ok:
            raise typer.Exit(1)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write (records, then checkpoints).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a checkpoint at the head and export the whole chain for write-once storage."""
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        count = governance_for(Workspace.open(workspace)).audit.export(out)
        emit(
            {"out": str(out), "records": count},
            as_json,
            lambda r: f"wrote {r['records']} records to {r['out']}",
        )


@app.command("checkpoint")
def checkpoint(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Sign a checkpoint at the current head now."""
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        cp = governance_for(Workspace.open(workspace)).audit.checkpoint()
        emit(cp, as_json, lambda c: f"checkpoint at record {c.seq}" if c else "audit log is empty")


@app.command("tail")
def tail(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many records.")] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the newest audit records (JSON Lines with --json)."""
    import json

    from shipyard.cli.common import to_jsonable
    from shipyard.governance.service import governance_for
    from shipyard.workspace import Workspace

    with handled(as_json):
        entries = governance_for(Workspace.open(workspace)).audit.tail(limit)
        for e in entries:
            typer.echo(
                json.dumps(to_jsonable(e))
                if as_json
                else f"{e.seq:>8}  {e.ts}  {e.actor:<16} {e.outcome:<8} {e.project}  {e.action}  {e.target}"
            )
