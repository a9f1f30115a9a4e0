"""Every state-changing CLI command is audited as the OS user, by ``cli.common.handled`` (one mechanism).

The command tree is enumerated from the real ``shipyard`` app: a command classified neither as audited nor as
read-only fails here, so a new command cannot ship unaudited by accident.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from shipyard.cli.common import AUDITED_COMMANDS, READ_ONLY_COMMANDS, command_key
from shipyard.cli.main import app
from shipyard.errors import InvalidInput
from shipyard.governance.audit import AuditLog, AuditUnavailable
from shipyard.governance.service import governance_for
from shipyard.workspace import Workspace

runner = CliRunner()
ACTOR = f"local:{getpass.getuser()}"


def _commands() -> dict[str, Any]:
    """``"access user-add"`` -> its click command, for every leaf (and group callback) of the app."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: list[str]) -> None:
        if path and command.callback is not None:
            found[" ".join(path)] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def _key(command: Any) -> str:
    return command_key(getattr(command.callback, "__wrapped__", command.callback))


def test_every_command_is_classified_and_the_tables_name_only_real_commands() -> None:
    keys = {path: _key(c) for path, c in COMMANDS.items()}
    unclassified = sorted(
        p for p, k in keys.items() if k not in AUDITED_COMMANDS and k not in READ_ONLY_COMMANDS
    )
    assert unclassified == [], f"classify these in shipyard/cli/common.py: {unclassified}"
    assert set(AUDITED_COMMANDS) & READ_ONLY_COMMANDS == set()
    assert set(AUDITED_COMMANDS) | READ_ONLY_COMMANDS == set(keys.values())
    assert len(AUDITED_COMMANDS) >= 30


def _dummy_args(command: Any, tmp: Path) -> list[str]:
    """Values that get past parsing, so the command reaches its body (and the audit in front of it)."""
    data = tmp / "input.jsonl"
    data.write_text("{}\n")
    args: list[str] = []
    for param in command.params:
        if param.required:
            value = str(data) if param.name in PATH_PARAMS else "x"
            args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    return args


PATH_PARAMS = {"file", "manifest", "notebook", "definition", "data", "rules_file", "reference", "current"}
WORKSPACE_CREATORS = {"workspace.init", "demo.run"}
FAIL_CLOSED = sorted(
    path for path, c in COMMANDS.items() if AUDITED_COMMANDS.get(_key(c), "") not in ("", *WORKSPACE_CREATORS)
)


@pytest.mark.parametrize("path", FAIL_CLOSED)
def test_a_state_changing_command_is_audited_first_and_refused_when_the_audit_fails(
    path: str, workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, str]] = []

    def failing_append(self: AuditLog, actor: str, project: str, action: str, *a: Any, **k: Any) -> Any:
        calls.append((actor, action, a[1] if len(a) > 1 else k.get("outcome", "")))
        raise AuditUnavailable("audit log could not be written (disk full); the operation was refused")

    monkeypatch.setattr(AuditLog, "append", failing_append)
    args = [*path.split(), *_dummy_args(COMMANDS[path], tmp_path), "-w", str(workspace_dir)]
    result = runner.invoke(app, args)
    assert calls[:1] == [(ACTOR, AUDITED_COMMANDS[_key(COMMANDS[path])], "allowed")], result.output
    assert result.exit_code == 1 and "operation was refused" in result.output, result.output


def _chain(root: Path) -> list[dict[str, Any]]:
    with Workspace.open(root) as ws:
        records = [asdict(e) for e in governance_for(ws).audit.entries()]
    return [{**r, "payload": json.loads(r["payload"])} for r in records]


def test_changes_and_failures_land_in_the_chain_as_the_os_user(workspace_dir: Path) -> None:
    w = ["-w", str(workspace_dir), "--json"]
    assert runner.invoke(app, ["access", "user-add", "ann", *w]).exit_code == 0
    refused = runner.invoke(app, ["access", "bind", "nobody", "viewer", *w])
    assert refused.exit_code != 0
    listed = runner.invoke(app, ["access", "users", *w])  # a read: not recorded
    assert listed.exit_code == 0
    records = _chain(workspace_dir)
    assert [(r["actor"], r["action"], r["target"], r["outcome"]) for r in records] == [
        (ACTOR, "access.user_add", "ann", "allowed"),
        (ACTOR, "access.bind", "nobody", "allowed"),
        (ACTOR, "access.bind", "nobody", "failed"),
    ]
    assert "no user 'nobody'" in records[2]["payload"]["error"]
    assert records[1]["payload"] == {"user": "nobody", "role": "viewer"}


def test_init_is_recorded_in_the_workspace_it_creates(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert runner.invoke(app, ["init", str(root), "--project", "fresh", "--json"]).exit_code == 0
    records = _chain(root)
    assert [(r["actor"], r["action"], r["project"]) for r in records][-1] == (
        ACTOR,
        "workspace.init",
        "fresh",
    )


@pytest.mark.parametrize(
    "url",
    ["postgresql://ann:s3cret@db:5432/x", "mysql+pymysql://root:hunter2@127.0.0.1/x"],
)
def test_credentials_in_urls_never_reach_the_audit_payload(url: str) -> None:
    from shipyard.cli.common import _audit_payload

    payload = _audit_payload({"url": url, "source": [url, "feast"], "workspace": "/w", "as_json": True})
    assert "s3cret" not in json.dumps(payload) and "hunter2" not in json.dumps(payload)
    assert payload["url"].endswith("***@" + url.split("@", 1)[1])
    assert payload["source"] == [payload["url"], "feast"] and set(payload) == {"url", "source"}


def test_a_failed_command_still_maps_to_its_exit_code(workspace_dir: Path) -> None:
    result = runner.invoke(app, ["access", "grant", "ann", "nocolumn", "-w", str(workspace_dir), "--json"])
    assert result.exit_code == InvalidInput.exit_code
    outcomes = [r["outcome"] for r in _chain(workspace_dir)]
    assert outcomes == ["allowed", "failed"]
