"""Autologging after ``%load_ext shipyard``: a real IPython shell, real MLflow on the workspace's SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from shipyard.errors import InvalidInput
from shipyard.registry.lineage import TAG_CONFIG, sha256_file
from shipyard.workspace import Workspace


@pytest.fixture()
def shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    import mlflow

    previous = mlflow.get_tracking_uri()
    monkeypatch.chdir(tmp_path)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "shipyard")
    yield ip
    ip.run_line_magic("autolog", "off")
    InteractiveShell.clear_instance()
    mlflow.set_tracking_uri(previous)


FIT = (
    "from sklearn.linear_model import LogisticRegression\n"
    "import numpy as np\n"
    "X = np.arange(40, dtype=float).reshape(20, 2); y = (X[:, 0] > 20).astype(int)\n"
    "LogisticRegression().fit(X, y)\n"
)


def test_sklearn_fit_in_a_cell_is_logged_until_autolog_off(
    shell: InteractiveShell, workspace_dir: Path
) -> None:
    assert shell.run_line_magic("autolog", "status").startswith("autolog off")
    shell.run_cell(f"%shipyard_workspace {workspace_dir}")
    assert shell.run_line_magic("autolog", "on").startswith("autolog on: ")
    result = shell.run_cell(FIT)
    assert result.success, result.error_in_exec
    assert str(workspace_dir) in shell.run_line_magic("autolog", "status")
    ws = Workspace.open(workspace_dir)
    try:
        runs = ws.registry.client.search_runs([ws.registry.experiment_id])
        assert len(runs) == 1
        run = runs[0]
        assert "training_score" in run.data.metrics
        assert run.data.tags[TAG_CONFIG] == sha256_file(workspace_dir / "shipyard.toml")
        assert shell.run_line_magic("autolog", "off").startswith("autolog off")
        assert shell.run_cell(FIT).success
        assert len(ws.registry.client.search_runs([ws.registry.experiment_id])) == 1
    finally:
        ws.close()


def test_no_workspace_leaves_cells_running_untracked(shell: InteractiveShell) -> None:
    shell.run_line_magic("autolog", "on")
    assert shell.run_cell("x = 1").success
    assert shell.run_line_magic("autolog", "status").startswith("autolog waiting for a workspace")


def test_a_notebook_kernel_starts_with_autolog_on(workspace_dir: Path) -> None:
    from types import SimpleNamespace

    from shipyard.jupyter_ext.magics import MagicSession
    from shipyard.jupyter_ext.magics.tracking import register

    class fake_kernel_shell:  # noqa: N801 - fakes are named fake_* by house rule
        kernel = object()
        hook: tuple[str, object] = ("", None)
        magic = ""

        def __init__(self) -> None:
            self.events = SimpleNamespace(register=lambda event, fn: setattr(self, "hook", (event, fn)))

        def register_magic_function(self, fn: object, magic_kind: str, magic_name: str) -> None:
            self.magic = magic_name

    shell = fake_kernel_shell()
    autolog = register(shell, MagicSession())
    assert autolog.enabled and shell.magic == "autolog" and shell.hook[0] == "pre_run_cell"
    assert autolog.status() == "autolog on (configured on the next cell run)"


@pytest.mark.parametrize("line", ["maybe", "enable", "on off"])
def test_bad_autolog_argument_is_refused(shell: InteractiveShell, line: str) -> None:
    with pytest.raises(InvalidInput, match="%autolog takes on, off or status"):
        shell.run_line_magic("autolog", line)
