"""The human-readable HTML drift report of one window, rendered by Evidently's DataDriftPreset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shipyard.errors import EngineUnavailable, InvalidInput


@dataclass
class HtmlReport:
    """Where the report was written, and Evidently's own drift verdict for the window."""

    path: str
    columns: list[str]
    rows_reference: int
    rows_current: int
    evidently_drifted_share: float


def write_drift_report(
    reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], out: Path
) -> HtmlReport:
    """Render Evidently's data-drift report for ``columns`` of the two windows to ``out`` (.html)."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise InvalidInput(f"report path {out} must end in .html")
    if not out.parent.exists():
        raise InvalidInput(f"folder {out.parent} does not exist; create it or choose another --out")
    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset
    except ImportError as exc:  # an optional engine: the drift check itself never needs it
        raise EngineUnavailable(f"Evidently is not installed ({exc}); pip install evidently") from exc

    snapshot = Report([DataDriftPreset(columns=columns)]).run(
        current_data=current[columns], reference_data=reference[columns]
    )
    tmp = out.with_name(out.name + ".tmp")
    snapshot.save_html(str(tmp))
    tmp.replace(out)
    share = 0.0
    for metric in snapshot.dict().get("metrics", []):
        value = metric.get("value")
        if isinstance(value, dict) and "share" in value:
            share = float(value["share"])
            break
    return HtmlReport(str(out), columns, len(reference), len(current), share)
