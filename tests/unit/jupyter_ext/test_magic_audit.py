"""State-changing magics land in the audit chain as the OS user; reads and help do not; a failed append refuses."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from shipyard.errors import InvalidInput
from shipyard.examples.churn import create_example_workspace
from shipyard.governance.audit import AuditLog, AuditUnavailable
from shipyard.governance.service import governance_for
from shipyard.jupyter_ext.magic_audit import MAGIC_ACTIONS, magic_action
from shipyard.workspace import Workspace

ACTOR = f"local:{getpass.getuser()}"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = create_example_workspace(tmp_path_factory.mktemp("magic-audit") / "ws", customers=60)
    with Workspace.open(path) as ws:
        ws.features.apply()
    return path


@pytest.fixture()
def magic_workspace(root: Path) -> Path:
    return root


def _chain(root: Path) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    with Workspace.open(root) as ws:
        return [
            (e.actor, e.action, e.target, e.outcome, json.loads(e.payload))
            for e in governance_for(ws).audit.entries()
        ]


@pytest.mark.parametrize(
    ("magic", "line", "action"),
    [
        ("feature", "materialize", "features.materialize"),
        ("feature", "define", "features.define"),
        ("feature", "search refund", None),
        ("feature", "--help", None),
        ("deploy", "churn@champion --name api", "deployments.deploy"),
        ("deploy", "--help", None),
        ("pipeline", "run churn --force", "pipelines.run"),
        ("pipeline", "runs churn", None),
        ("monitor", "status churn", None),
        ("monitor", "run churn", "monitor.run"),
        ("models", "", None),
        ("copilot", "where is churn?", None),
        ("pipeline", 'promote "unterminated', None),
    ],
)
def test_magic_lines_map_to_audit_actions(magic: str, line: str, action: str | None) -> None:
    assert magic_action(magic, line) == action


def test_every_audited_magic_exists(shell: InteractiveShell) -> None:
    known = shell.magics_manager.magics
    for magic, _ in MAGIC_ACTIONS:
        assert magic in known["line"] or magic in known["cell"], magic


def test_changes_are_audited_as_the_os_user_and_reads_are_not(shell: InteractiveShell, root: Path) -> None:
    before = len(_chain(root))
    shell.run_line_magic("feature", "search refund")
    assert len(_chain(root)) == before
    shell.run_line_magic("feature", "materialize")
    with pytest.raises(InvalidInput):
        shell.run_cell_magic("feature", "define", "x = (\n")  # syntax error: refused, recorded as failed
    added = _chain(root)[before:]
    assert [(a, act, out) for a, act, _, out, _ in added] == [
        (ACTOR, "features.materialize", "allowed"),
        (ACTOR, "features.define", "allowed"),
        (ACTOR, "features.define", "failed"),
    ]
    assert added[0][4]["magic"] == "%feature materialize"
    assert "line" in added[2][4]["error"]


def test_a_failing_audit_append_refuses_the_magic(
    shell: InteractiveShell, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    with Workspace.open(root) as ws:
        monkeypatch.setattr(type(ws.features), "materialize", lambda *a, **k: ran.append("materialize"))

    def failing_append(self: AuditLog, *a: Any, **k: Any) -> Any:
        raise AuditUnavailable("audit log could not be written (disk full); the operation was refused")

    monkeypatch.setattr(AuditLog, "append", failing_append)
    with pytest.raises(AuditUnavailable, match="refused"):
        shell.run_line_magic("feature", "materialize")
    assert ran == []
