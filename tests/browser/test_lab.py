"""JupyterLab + Shipyard in headless Chromium: copilot, feature browser, XSS, promote/run, monitoring.

Screenshots land in tests/browser/artifacts/ (with jupyter-lab.log); a failing scenario leaves
``SCENARIO-failure.png`` there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.notebooks import tagged_notebook

pytestmark = pytest.mark.browser


def _steps(records: list[dict[str, object]]) -> list[object]:
    return [r["step"] for r in records]


def test_copilot_answers_with_a_citation_that_opens_details(
    lab: Any, drive: Callable[[str], list[dict[str, object]]]
) -> None:
    steps = _steps(drive("copilot"))
    if lab.copilot_route:
        assert "citation" in steps and "asset details" in steps
    else:
        assert "unavailable state" in steps


def test_feature_browser_search_then_details(
    lab: Any, drive: Callable[[str], list[dict[str, object]]]
) -> None:
    assert "feature details" in _steps(drive("features"))


def test_catalog_markup_renders_inert(lab: Any, drive: Callable[[str], list[dict[str, object]]]) -> None:
    assert "inert" in _steps(drive("xss"))


def test_promote_two_selected_cells_then_run(
    lab: Any, drive: Callable[[str], list[dict[str, object]]]
) -> None:
    records = drive("promote")
    assert "context menu item" in _steps(records)
    done = next(r for r in records if r["step"] == "run succeeded")
    assert done["steps"] == ["succeeded", "succeeded"]


def test_monitoring_view_opens(lab: Any, drive: Callable[[str], list[dict[str, object]]]) -> None:
    assert "monitoring view" in _steps(drive("monitor"))


def _chips_notebook() -> dict[str, object]:
    return tagged_notebook(
        [
            ("load", "x = 1", ["step:load"]),
            ("note", "# scratch", ["skip"]),
            ("train", "y = x + 1", ["step:train"]),
        ]
    )


def test_cell_tag_chips_add_edit_remove_and_refuse_bad_tags(
    lab: Any, drive: Callable[[str], list[dict[str, object]]]
) -> None:
    from shipyard.bridge.notebook import load_notebook
    from shipyard.bridge.tags import tag_cells

    path = lab.root / "notebooks" / "chips.ipynb"
    path.write_text(json.dumps(_chips_notebook(), indent=1))
    steps = _steps(drive("celltags"))
    assert "invalid refused" in steps and "removed skip" in steps
    # Saved by the scenario: the chips wrote the cell metadata the bridge reads.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        tags = [c["metadata"].get("tags", []) for c in json.loads(path.read_text())["cells"]]
        if tags[2] == ["step:fit", "after:load"]:
            break
        time.sleep(0.3)
    assert tags == [["step:load"], [], ["step:fit", "after:load"]]
    tagged = tag_cells(load_notebook(path).cells)
    assert [(s.name, s.after) for s in tagged.steps] == [("load", []), ("fit", ["load"])]


def test_deploy_dialog_deploys_a_registered_model_stage_by_stage(
    triton_reaper: None,
    lab: Any,
    registered_model: str,
    drive: Callable[[str], list[dict[str, object]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEPLOY_MODEL", registered_model)
    monkeypatch.setenv("DEPLOY_NAME", "churn-e2e")
    records = drive("deploy")
    assert "dialog from palette" in _steps(records)
    done = next(r for r in records if r["step"] == "deployed")
    pairs: list[list[str]] = done["stages"]  # type: ignore[assignment]
    states = dict((stage, state) for stage, state in pairs)
    assert list(states)[:3] == ["resolve", "load_and_export", "parity"]
    assert set(states.values()) == {"done"} and "record" in states
    assert "churn-e2e" in str(done["result"])


WIDGET_CELL = """\
import time
from shipyard.jupyter_ext.progress_display import ProgressBar

bar = ProgressBar("loading", 3).start()
for i in range(1, 4):
    time.sleep(1.5)
    bar.update(i, f"part{i}")
time.sleep(2)
bar.finish()
"""


def test_magic_progress_is_a_live_widget_in_lab_then_static_text(
    lab: Any, drive: Callable[[str], list[dict[str, object]]]
) -> None:
    nb = _chips_notebook()
    nb["cells"] = [{**nb["cells"][0], "id": "bar", "source": WIDGET_CELL, "metadata": {}}]  # type: ignore[index]
    (lab.root / "notebooks" / "widgets.ipynb").write_text(json.dumps(nb, indent=1))
    records = drive("widgets")
    live = next(r for r in records if r["step"] == "live widget")
    assert live["bars"] == 1
    assert "loading" in str(next(r for r in records if r["step"] == "final text")["text"])
