"""`shipyard access|audit|token` through their own Typer apps (the lead registers the groups)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli import access_cmd, audit_cmd, token_cmd

runner = CliRunner()


def run(app: object, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))  # type: ignore[arg-type]
    return result.exit_code, result.stdout


def test_access_changes_are_audited_and_verify_passes(workspace_dir: Path) -> None:
    w = ["-w", str(workspace_dir), "--json"]
    assert run(access_cmd.app, "user-add", "ann", *w)[0] == 0
    code, out = run(access_cmd.app, "bind", "ann", "scientist", *w)
    assert code == 0 and json.loads(out) == {"user": "ann", "project": "test", "role": "scientist"}
    assert run(access_cmd.app, "grant", "ann", "customers:email", *w)[0] == 0
    assert run(access_cmd.app, "mask-tag", "pii", "hash", *w)[0] == 0
    code, out = run(token_cmd.app, "create", "ann-lab", "--user", "ann", "--expires", "12h", *w)
    assert code == 0 and json.loads(out)["secret"].startswith("shp_")
    code, out = run(audit_cmd.app, "verify", *w)
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["records"] == 5
    export = workspace_dir / "audit.jsonl"
    code, out = run(audit_cmd.app, "export", "--out", str(export), *w)
    assert code == 0 and json.loads(out)["records"] == 5
    actions = [json.loads(line).get("action") for line in export.read_text().splitlines()]
    assert actions[:5] == [
        "access.user_add",
        "access.bind",
        "access.grant",
        "access.mask_policy",
        "token.create",
    ]
    assert run(audit_cmd.app, "verify", "--file", str(export), *w)[0] == 0
    code, out = run(audit_cmd.app, "tail", "-n", "2", *w)
    assert code == 0 and [json.loads(x)["seq"] for x in out.splitlines()] == [4, 5]


def test_verify_exits_1_naming_the_first_bad_record(workspace_dir: Path) -> None:
    w = ["-w", str(workspace_dir), "--json"]
    for name in ("a", "b", "c"):
        run(access_cmd.app, "user-add", name, *w)
    import sqlite3

    with sqlite3.connect(workspace_dir / ".shipyard" / "shipyard.db") as conn:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    code, out = run(audit_cmd.app, "verify", *w)
    assert code == 1 and json.loads(out)["first_bad"] == 2
    code, _ = run(audit_cmd.app, "verify", "-w", str(workspace_dir))
    assert code == 1


@pytest.mark.parametrize(
    ("app", "args", "needle"),
    [
        (access_cmd.app, ["bind", "ghost", "viewer"], "no user 'ghost'"),
        (access_cmd.app, ["bind", "x", "owner"], "unknown role"),
        (access_cmd.app, ["user-add", "../etc"], "not a valid user name"),
        (access_cmd.app, ["grant", "x", "nocolumn"], "ASSET:COLUMN"),
        (access_cmd.app, ["mask-tag", "pii", "rot13"], "method"),
        (token_cmd.app, ["create", "t", "--expires", "soon"], "--expires"),
        (token_cmd.app, ["create", "t", "--role", "viewer"], "needs a project"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    workspace_dir: Path, app: object, args: list[str], needle: str
) -> None:
    if args[0] == "bind" and args[1] == "x":
        run(access_cmd.app, "user-add", "x", "-w", str(workspace_dir))
    result = runner.invoke(app, [*args, "-w", str(workspace_dir)])  # type: ignore[arg-type]
    assert result.exit_code == 2, result.output
    assert needle in result.output


def test_corrupted_metadata_store_is_a_clear_error(workspace_dir: Path) -> None:
    db = workspace_dir / ".shipyard" / "shipyard.db"
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(audit_cmd.app, ["verify", "-w", str(workspace_dir)])
    assert result.exit_code == 1
    assert "metadata store" in result.output and "not a database" in result.output
