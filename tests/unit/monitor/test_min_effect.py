"""Minimum effect size of the calibrated drift rule: huge windows do not alarm on immaterial shifts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shipyard.cli.monitor_cmd import app
from shipyard.errors import InvalidInput
from shipyard.monitor.alerts import MonitorRules
from shipyard.monitor.calibration import CalibrationPolicy, calibrated_drift
from shipyard.monitor.profile import build_profile
from shipyard.monitor.service import drift_policy

ROWS = 1_000_000


@pytest.fixture(scope="module")
def big() -> tuple[Any, pd.DataFrame]:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {"x": rng.normal(0, 1, 200_000), "plan": rng.choice(["a", "b", "c"], 200_000, p=[0.5, 0.3, 0.2])}
    )
    current = pd.DataFrame(
        {"x": rng.normal(0.02, 1, ROWS), "plan": rng.choice(["a", "b", "c"], ROWS, p=[0.49, 0.31, 0.2])}
    )
    return build_profile(reference), current


def test_a_million_rows_do_not_alarm_on_a_002_sd_shift_by_default(big: tuple[Any, pd.DataFrame]) -> None:
    profile, current = big
    report = calibrated_drift(profile, current)
    assert not report.drift_detected
    x = report.features["x"]
    assert x.suppressed and "min_effect" in x.suppressed[0]  # significant, but immaterial
    assert x.effect_size is not None and x.effect_size < x.min_effect == 0.03
    doc = report.to_dict()["features"]["x"]
    assert {"effect_size", "min_effect", "suppressed"} <= set(doc)
    assert doc["checks"]["chi2"]["min_effect"] == 0.05


def test_without_the_floor_the_same_window_alarms(big: tuple[Any, pd.DataFrame]) -> None:
    profile, current = big
    report = calibrated_drift(profile, current, policy=CalibrationPolicy(min_effect=False))
    assert report.features["x"].drifted and report.features["x"].min_effect == 0.0


def test_a_material_shift_of_a_million_rows_still_alarms(big: tuple[Any, pd.DataFrame]) -> None:
    profile, current = big
    shifted = current.assign(x=current["x"] + 0.2)
    report = calibrated_drift(profile, shifted)
    x = report.features["x"]
    assert report.drifted_features == ["x"] and any(r.startswith("ks") for r in x.reasons)
    # Only checks below their floor are listed as suppressed (a location shift moves Mood's score a little).
    assert x.checks is not None and all(
        x.checks[s.split()[0]]["effect"] < x.checks[s.split()[0]]["min_effect"] for s in x.suppressed or []
    )


@pytest.mark.parametrize(
    ("knobs", "where"),
    [
        ({"min_ks": -0.1}, "min_ks"),
        ({"min_ks": 1.5}, "min_ks"),
        ({"min_w": -1}, "min_w"),
        ({"min_scale": -0.5}, "min_scale"),
        ({"min_effect": "sometimes"}, "min_effect"),
    ],
)
def test_bad_floors_are_clear_errors(knobs: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput, match=f"drift policy is not valid: {where}"):
        drift_policy(**knobs)


def test_cli_floor_options(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    pd.DataFrame({"x": rng.normal(0, 1, 5_000)}).to_parquet(tmp_path / "r.parquet")
    pd.DataFrame({"x": rng.normal(0.3, 1, 2_000)}).to_parquet(tmp_path / "c.parquet")
    base = [
        "drift",
        "--reference",
        str(tmp_path / "r.parquet"),
        "--current",
        str(tmp_path / "c.parquet"),
        "--json",
    ]
    assert json.loads(CliRunner().invoke(app, base).stdout)["drift_detected"] is True
    # A floor above the shift's effect turns the same significant change into "suppressed".
    high = CliRunner().invoke(app, [*base, "--min-ks", "0.5", "--min-w", "5"])
    doc = json.loads(high.stdout)
    assert doc["drift_detected"] is False and doc["features"]["x"]["suppressed"]
    bad = CliRunner().invoke(app, [*base, "--min-ks", "-1"])
    assert bad.exit_code == 2 and "min_ks" in json.loads(bad.stdout)["error"]["message"]


def test_rules_carry_the_drift_policy() -> None:
    rules = MonitorRules.model_validate_json(json.dumps({"drift": {"min_effect": False, "alpha": 0.01}}))
    assert rules.drift.min_effect is False and MonitorRules().drift.min_ks == 0.03


@pytest.mark.parametrize(("extra", "status"), [({}, 200), ({"min_ks": 2}, 422), ({"min_w": -0.1}, 422)])
def test_rest_drift_takes_the_floors(workspace: Any, extra: dict[str, Any], status: int) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from shipyard.server.auth import get_workspace
    from shipyard.server.routers.monitor import router

    rng = np.random.default_rng(4)
    pd.DataFrame({"x": rng.normal(0, 1, 5_000)}).to_parquet(workspace.root / "r.parquet")
    pd.DataFrame({"x": rng.normal(0.3, 1, 2_000)}).to_parquet(workspace.root / "c.parquet")
    api = FastAPI()
    api.include_router(router, prefix="/api/v1")
    api.dependency_overrides[get_workspace] = lambda: workspace
    body = {"reference": "r.parquet", "current": "c.parquet", **extra}
    response = TestClient(api).post("/api/v1/monitor/drift", json=body)
    assert response.status_code == status
    if status == 200:
        assert response.json()["features"]["x"]["min_effect"] == 0.03
