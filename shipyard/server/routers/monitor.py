"""``/api/v1/monitor``: drift, reference profiles, labels, performance, latency, monitoring passes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder as to_jsonable
from pydantic import BaseModel, Field

from shipyard.server.auth import get_workspace
from shipyard.server.routers._paths import ResourceName, workspace_path
from shipyard.workspace import Workspace

router = APIRouter(tags=["monitor"])


class DriftRequest(BaseModel):
    reference: str = Field(min_length=1, description="Parquet or CSV path, relative to the workspace")
    current: str = Field(min_length=1, description="Parquet or CSV path, relative to the workspace")
    features: list[str] | None = None
    min_effect: bool = Field(
        default=True, description="also require a material effect (min_ks / min_w / min_scale)"
    )
    min_ks: float = Field(default=0.03, ge=0, le=1, description="KS (CDF gap) floor of a numeric breach")
    min_w: float = Field(default=0.05, ge=0, description="Cohen's w floor of a chi-square breach")
    min_scale: float = Field(default=0.06, ge=0, description="floor of a scale (spread) breach")


@router.post("/monitor/drift")
def drift(body: DriftRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Per-feature drift statistics and the overall decision (DESIGN.md drift contract)."""
    from shipyard.monitor.calibration import CalibrationPolicy

    reference = workspace_path(ws, body.reference, "reference")
    current = workspace_path(ws, body.current, "current")
    policy = CalibrationPolicy(
        min_effect=body.min_effect, min_ks=body.min_ks, min_w=body.min_w, min_scale=body.min_scale
    )
    return ws.monitor.drift(reference, current, body.features, policy=policy).to_dict()


@router.get("/monitor/deployments/{name}/drift")
def deployment_drift(name: ResourceName, ws: Workspace = Depends(get_workspace)) -> Any:
    """Drift of a deployment's logged traffic against its training reference."""
    return ws.monitor.deployment_drift(name).to_dict()


class LabelRow(BaseModel):
    request_id: str = Field(min_length=1)
    label: float


class LabelsRequest(BaseModel):
    labels: list[LabelRow] = Field(min_length=1, max_length=1_000_000)


class ProfileRequest(BaseModel):
    reference: str = Field(min_length=1, description="Parquet or CSV path, relative to the workspace")
    features: list[str] | None = None


@router.post("/monitor/deployments/{name}/profile")
def capture_profile(name: ResourceName, body: ProfileRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Capture the deployment's reference profile from a training frame in the workspace."""
    from shipyard.monitor.profile import profile_payload

    reference = workspace_path(ws, body.reference, "reference")
    return profile_payload(ws.monitor.capture_reference_profile(name, reference, body.features))


@router.post("/monitor/deployments/{name}/labels")
def ingest_labels(name: ResourceName, body: LabelsRequest, ws: Workspace = Depends(get_workspace)) -> Any:
    """Ingest delayed ground truth (request_id -> label)."""
    import pandas as pd

    frame = pd.DataFrame([row.model_dump() for row in body.labels])
    return asdict(ws.monitor.ingest_labels(name, frame))


@router.get("/monitor/deployments/{name}/performance")
def performance(
    name: ResourceName,
    window: str = "1D",
    output: str = "probability",
    ws: Workspace = Depends(get_workspace),
) -> Any:
    """Labelled metrics per window."""
    return {"deployment": name, "windows": [asdict(w) for w in ws.monitor.performance(name, window, output)]}


@router.get("/monitor/deployments/{name}/latency")
def latency(name: ResourceName, window: str = "1h", ws: Workspace = Depends(get_workspace)) -> Any:
    """p50/p95/p99 latency and request rate per window."""
    return {"deployment": name, "windows": [asdict(w) for w in ws.monitor.latency(name, window)]}


@router.post("/monitor/deployments/{name}/run")
def run_checks(name: ResourceName, ws: Workspace = Depends(get_workspace)) -> Any:
    """One monitoring pass over new traffic (windows, alerts, webhooks, retraining)."""
    return to_jsonable(ws.monitor.run_checks(name))


@router.get("/monitor/deployments/{name}/status")
def status(name: ResourceName, ws: Workspace = Depends(get_workspace)) -> Any:
    """Recent windows, open alerts, retraining runs and monitor events."""
    return to_jsonable(ws.monitor.status(name))
