"""JupyterLab + Shipyard in headless Chromium: copilot, feature browser, XSS, promote/run, monitoring.

Screenshots land in tests/browser/artifacts/ (with jupyter-lab.log); a failing scenario leaves
``SCENARIO-failure.png`` there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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
