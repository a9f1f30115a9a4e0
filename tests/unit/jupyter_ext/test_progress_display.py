"""Progress of %feature materialize / %deploy / %pipeline run: ipywidgets in a kernel, text elsewhere."""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from shipyard.jupyter_ext.magics.deploy import STAGE_LABELS, StageProgress
from shipyard.jupyter_ext.magics.pipeline import RunProgress
from shipyard.jupyter_ext.progress_display import ProgressBar, widgets_available

KERNEL_SHELL = SimpleNamespace(kernel=object())  # what ipykernel's shell looks like to the check


@pytest.mark.parametrize(
    "shell, hide_ipywidgets, expected",
    [
        (KERNEL_SHELL, False, True),
        (KERNEL_SHELL, True, False),  # a kernel without ipywidgets installed
        (SimpleNamespace(), False, False),  # terminal IPython: no kernel, no comms
        (None, False, False),  # plain Python: no IPython at all
    ],
)
def test_widgets_only_in_a_kernel_with_ipywidgets(
    shell: Any, hide_ipywidgets: bool, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hide_ipywidgets:
        monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import now raises ImportError
    if shell is None:
        monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert widgets_available(shell) is expected


def test_widget_bar_updates_in_place_then_gives_way_to_static_text() -> None:
    bar = ProgressBar("materializing", 3, mode="widget").start()
    box = bar.widget
    progress = box.children[1]
    bar.update(2, "customer_activity")
    assert progress.value == 2 and progress.max == 3
    assert box.children[2].value == "2/3 customer_activity"
    bar.update(3, "customer_profile")
    bar.finish()
    assert bar.widget is None and progress.bar_style == "success"
    assert repr(bar) == "materializing: 3/3 customer_profile [done]"
    assert "[done]" in bar._repr_html_()


def test_display_bar_without_widgets_marks_failure() -> None:
    bar = ProgressBar("<b>x</b>", 2, mode="display").start()
    bar.update(1, "a")
    bar.finish(failed=True, note="b failed")
    assert bar.widget is None
    assert repr(bar) == "<b>x</b>: 1/2 b failed [failed]"
    assert "&lt;b&gt;x" in bar._repr_html_()


def test_deploy_stages_drive_the_widget_bar() -> None:
    progress = StageProgress(io.StringIO(), widget=True)
    assert progress.bar is not None
    stages = list(STAGE_LABELS)
    for stage in stages[:3]:
        progress(stage, "start", None)
        progress(stage, "done", 0.25)
    progress("tensorrt_parity", "start", None)
    progress("tensorrt_parity", "done", 0.5)  # a GPU-only extra stage does not count towards the 7
    assert progress.bar.done == 3 and "TensorRT parity" in progress.bar.current
    progress(stages[3], "start", None)
    assert progress.bar.current == "start Triton ..."
    progress(stages[3], "failed", 1.5)
    assert progress.bar.state == "failed" and "FAILED after 1.50s" in progress.bar.current
    progress.finish(failed=True)  # already ended by the failed stage: stays as it was
    assert isinstance(progress.out, io.StringIO) and progress.out.getvalue() == ""


def test_deploy_stages_as_text_without_widgets() -> None:
    out = io.StringIO()
    progress = StageProgress(out, widget=False)
    progress("resolve", "start", None)
    progress("resolve", "done", 0.1)
    progress.finish()
    assert progress.bar is None
    assert out.getvalue().splitlines() == [
        "[1/7] resolve model and feature refs ...",
        "[1/7] resolve model and feature refs: done in 0.10s",
    ]


def _step(name: str, status: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, status=status)


def test_pipeline_run_drives_the_widget_bar() -> None:
    progress = RunProgress("tiny", lambda: 2, widget=True)
    assert progress.bar is not None and progress.bar.total == 2
    progress(_step("make", "started"))
    assert progress.bar.done == 0 and progress.bar.current == "make running ..."
    progress(_step("make", "succeeded"))
    progress(_step("double", "started"))
    progress(_step("double", "failed"))
    progress.finish(failed=True)
    assert progress.bar.done == 2 and progress.bar.state == "failed"
    assert repr(progress.bar) == "pipeline tiny: 2/2 double: failed [failed]"


def test_pipeline_run_as_text_without_widgets(capsys: pytest.CaptureFixture[str]) -> None:
    counted: list[int] = []

    def count() -> int:
        counted.append(1)
        return 2

    progress = RunProgress("tiny", count, widget=False)
    progress(_step("make", "started"))
    progress(_step("make", "succeeded"))
    progress.finish()
    assert capsys.readouterr().out.splitlines() == ["step make: started", "step make: succeeded"]
    assert counted == []  # the step count is read only for the widget


def test_in_a_real_kernel_the_bar_is_a_widget_and_the_saved_output_is_text() -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    code = (
        "from shipyard.jupyter_ext.progress_display import ProgressBar\n"
        "bar = ProgressBar('loading', 3).start()\n"
        "print(bar.mode)\n"
        "for i in range(1, 4):\n"
        "    bar.update(i, f'part{i}')\n"
        "bar.finish()"
    )
    nb.cells = [nbformat.v4.new_code_cell(code)]
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    outputs = nb.cells[0].outputs
    assert any(o.get("text") == "widget\n" for o in outputs), outputs
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    # The one display was updated in place: the live widget view became the final text/HTML.
    assert len(shown) == 1 and shown[0]["data"]["text/plain"] == "loading: 3/3 part3 [done]"
    assert "application/vnd.jupyter.widget-view+json" not in shown[0]["data"]
    state = str(nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"])
    assert "IntProgressModel" in state


@pytest.mark.parametrize(
    "magic, expected",
    [("deploy", "%deploy NAME[@ALIAS"), ("models", "%models [NAME]"), ("feature", "%feature search")],
)
@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_needs_no_workspace(magic: str, expected: str, flag: str) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "shipyard")
        assert expected in shell.run_line_magic(magic, flag)
    finally:
        InteractiveShell.clear_instance()
