"""``%deploy`` and ``%models`` through a real IPython shell (real MLflow; Triton faked by a fake_ service)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from sklearn.linear_model import LogisticRegression

from shipyard.errors import InvalidInput
from shipyard.jupyter_ext.magics.deploy import STAGE_LABELS, Rows, parse_deploy_line
from shipyard.workspace import Workspace


class fake_deployments:  # noqa: N801 - fakes are named fake_* by house rule
    """Stands in for Triton-backed deploys: walks the real stage names and reports progress."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def deploy(self, model: str, ref: str, name: str | None, progress: Any = None) -> Any:
        self.calls.append((model, ref, name))
        for stage in STAGE_LABELS:
            progress(stage, "start", None)
            progress(stage, "done", 0.01)
        return SimpleNamespace(
            name=name or model, model_name=model, model_version="3", parity_max_abs_diff=1e-7
        )


@pytest.mark.parametrize(
    "line, expected",
    [
        ("churn@champion", ("churn", "champion", None)),
        ("churn", ("churn", "champion", None)),
        ("churn@2 --name churn-api", ("churn", "2", "churn-api")),
    ],
)
def test_parse_deploy_line(line: str, expected: tuple) -> None:
    assert parse_deploy_line(line) == expected


@pytest.mark.parametrize("line", ["", "@champion", "churn --bogus x", "churn 'unclosed", "a b"])
def test_bad_deploy_lines_are_refused(line: str) -> None:
    with pytest.raises(InvalidInput, match="%deploy"):
        parse_deploy_line(line)


def test_deploy_shows_each_stage(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _session_ws(shell)
    fake = fake_deployments()
    ws.__dict__["deployments"] = fake
    result = shell.run_line_magic("deploy", "churn@champion --name churn-api")
    out = capsys.readouterr().out
    assert fake.calls == [("churn", "champion", "churn-api")]
    assert "[1/7] resolve model and feature refs ..." in out and "[7/7] record deployment" in out
    assert out.count("done in") == 7
    assert isinstance(result, Rows) and "churn-api" in result._repr_html_()


def test_gpu_only_stage_is_numbered_after_parity() -> None:
    import io

    from shipyard.jupyter_ext.magics.deploy import StageProgress

    out = io.StringIO()
    progress = StageProgress(out)
    progress("tensorrt_parity", "start", None)
    progress("tensorrt_parity", "done", 0.5)
    assert out.getvalue().splitlines() == [
        "[3+/7] TensorRT parity check (GPU) ...",
        "[3+/7] TensorRT parity check (GPU): done in 0.50s",
    ]


def test_models_lists_the_registry(shell: InteractiveShell) -> None:
    ws = _session_ws(shell)
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"]).assign(id=range(60))
    df["y"] = (df["a"] > 0).astype(int)
    model = LogisticRegression().fit(df[["a", "b"]], df["y"])
    ws.registry.log_model(
        model,
        name="churn",
        training_frame=df,
        feature_columns=["a", "b"],
        target="y",
        feature_refs=["fv:a", "fv:b"],
        metrics={"auc": 0.9},
        params={},
    )
    table = shell.run_line_magic("models", "")
    assert table.rows[0][:3] == ["churn", "1", "champion"] and "auc=0.9" in table.rows[0][3]
    assert shell.run_line_magic("models", "other").rows == []
    assert "<table>" in table._repr_html_() and "churn" in repr(table)


def _session_ws(shell: InteractiveShell) -> Workspace:
    # %shipyard_workspace returned the root; the session behind the magics holds the Workspace object.
    magic = shell.find_line_magic("deploy")
    session = next(c.cell_contents for c in magic.__closure__ or () if hasattr(c.cell_contents, "workspace"))
    return session.workspace
