"""``%pipeline`` through a real IPython shell: promote tagged cells and run them (real papermill/Dagster)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from shipyard.errors import InvalidInput
from shipyard.jupyter_ext.magics.deploy import Rows
from shipyard.jupyter_ext.magics.pipeline import USAGE, notebook_path, parse_params, parse_pipeline_line


def _notebook(cells: list[tuple[str, list[str]]]) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"c{i}",
                    "metadata": {"tags": tags},
                    "source": src,
                    "outputs": [],
                    "execution_count": None,
                }
                for i, (src, tags) in enumerate(cells)
            ],
        }
    )


def test_help_lists_every_subcommand(shell: InteractiveShell) -> None:
    text = shell.run_line_magic("pipeline", "--help")
    assert text == USAGE
    for sub in ("promote", "run", "list", "runs"):
        assert f"%pipeline {sub}" in text or f"| {sub}" in text


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("", "needs a subcommand"),
        ("bogus", "invalid choice"),
        ("run", "required"),
        ("run p --param novalue", "expected KEY=VALUE"),
        ("run p --param =1", "expected KEY=VALUE"),
        ("promote a.ipynb --nope", "unrecognized"),
        ("promote 'unclosed", "closing quotation"),
    ],
)
def test_bad_lines_are_refused_with_usage(line: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_pipeline_line(line)


def test_params_parse_json_values_else_strings() -> None:
    assert parse_params(["n=10", "label=churned", "flag=true", "xs=[1,2]"]) == {
        "n": 10,
        "label": "churned",
        "flag": True,
        "xs": [1, 2],
    }


def test_promote_cells_option_splits_ranges() -> None:
    assert parse_pipeline_line("promote nb.ipynb --cells 1-3,5").cells == ["1-3", "5"]


def test_notebook_defaults_to_the_kernels_session(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (workspace_dir / "nb.ipynb").write_text(_notebook([("x = 1", ["step:a"])]))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(InvalidInput, match="name the notebook"):
        notebook_path(None, workspace_dir)
    monkeypatch.setenv("JPY_SESSION_NAME", "nb.ipynb")
    assert notebook_path(None, workspace_dir) == (workspace_dir / "nb.ipynb").resolve()
    with pytest.raises(InvalidInput, match="not found"):
        notebook_path("missing.ipynb", workspace_dir)


def test_preview_writes_nothing_then_promote_and_run(
    shell: InteractiveShell, workspace_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = workspace_dir / "tiny.ipynb"
    nb.write_text(
        _notebook([("x = 21", ["step:make"]), ("y = x * 2\nassert y == 42", ["step:double", "after:make"])])
    )
    preview = shell.run_line_magic("pipeline", f"promote {nb} --name tiny --preview")
    assert isinstance(preview, Rows) and [r[0] for r in preview.rows] == ["make", "double"]
    assert preview.title.startswith("preview of") and not (workspace_dir / "pipelines" / "tiny").exists()
    promoted = shell.run_line_magic("pipeline", f"promote {nb} --name tiny")
    assert promoted.title.startswith("promoted") and (workspace_dir / "pipelines" / "tiny").is_dir()
    assert shell.run_line_magic("pipeline", "list").rows == [["tiny"]]
    run = shell.run_line_magic("pipeline", "run tiny")
    assert run.title.endswith(": succeeded"), run
    assert [r[1] for r in run.rows] == ["succeeded", "succeeded"]
    assert "step make: succeeded" in capsys.readouterr().out
    runs = shell.run_line_magic("pipeline", "runs tiny")
    assert runs.rows[0][1] == "succeeded"
    assert "<table>" in run._repr_html_()


def test_unknown_pipeline_is_a_clear_error(shell: InteractiveShell) -> None:
    from shipyard.errors import NotFound

    with pytest.raises(NotFound):
        shell.run_line_magic("pipeline", "run nope")
