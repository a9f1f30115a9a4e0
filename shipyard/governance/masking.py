"""Column masking: sensitive columns are discoverable but their values need an explicit grant.

A column is sensitive when its catalog entry says ``sensitive: true`` (method from its ``mask`` key, default
``null``) or when its asset carries a tag with a mask policy (``shipyard access mask-tag``). Values are
replaced by ``None`` (null), ``sha256:<16 hex>`` (hash, joinable but unreadable) or ``****1234`` (partial).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shipyard.governance.access import AccessService
from shipyard.governance.roles import Principal

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.workspace import Workspace

_CACHE_TTL_S = 1.0
_cache: dict[tuple[int, str], tuple[float, dict[tuple[str, str], str]]] = {}
_cache_lock = threading.Lock()


def mask_value(value: Any, method: str) -> Any:
    """One masked value; ``None`` stays ``None`` so a missing value still reads as missing."""
    if value is None or method == "null":
        return None
    text = str(value)
    if method == "hash":
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]
    keep = text[-4:] if len(text) > 4 else ""
    return "*" * max(len(text) - len(keep), 4) + keep


def _get(column: Any, key: str, default: Any = None) -> Any:
    return column.get(key, default) if isinstance(column, Mapping) else getattr(column, key, default)


def sensitive_columns(ws: Workspace, project: str) -> dict[tuple[str, str], str]:
    """(asset name, column) -> mask method, for every sensitive column of ``project`` (cached ~1 s)."""
    key = (id(ws), project)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < _CACHE_TTL_S:
            return hit[1]
    policies = AccessService(ws.store).mask_policies(project)
    found: dict[tuple[str, str], str] = {}
    for asset in ws.catalog.list(project=project):
        columns = getattr(asset, "columns", None) or asset.attributes.get("columns", []) or []
        tagged = next((policies[t] for t in asset.tags if t in policies), None)
        for column in columns:
            name = str(_get(column, "name", ""))
            if tagged is not None:
                found[(asset.name, name)] = tagged
            elif _get(column, "sensitive", False):
                found[(asset.name, name)] = str(_get(column, "mask", "") or "null")
    with _cache_lock:
        _cache[key] = (now, found)
    return found


def invalidate() -> None:
    """Forget cached sensitivity (after a catalog or policy change in this process)."""
    with _cache_lock:
        _cache.clear()


def plan(ws: Workspace, user: str, project: str, refs: list[str]) -> tuple[dict[str, str], list[str]]:
    """For ``view:feature`` refs: output column -> method to mask, and the sensitive refs ``user`` may read."""
    sensitive = sensitive_columns(ws, project)
    if not sensitive:
        return {}, []
    grants: set[tuple[str, str]] | None = None
    masked: dict[str, str] = {}
    granted: list[str] = []
    for ref in refs:
        view, _, feature = ref.partition(":")
        method = sensitive.get((view, feature))
        if method is None:
            continue
        if grants is None:
            from shipyard.governance.service import governance_for

            grants = governance_for(ws).grants(user, project)
        if {(view, feature), (view, "*"), ("*", "*")} & grants:
            granted.append(ref)
        else:
            masked[feature] = method
    return masked, granted


def mask_records(rows: list[dict[str, Any]], masked: dict[str, str]) -> list[dict[str, Any]]:
    """``rows`` with the masked columns replaced (the input is not modified)."""
    if not masked:
        return rows
    return [{k: (mask_value(v, masked[k]) if k in masked else v) for k, v in row.items()} for row in rows]


def mask_frame(frame: pd.DataFrame, masked: dict[str, str]) -> pd.DataFrame:
    """A copy of ``frame`` with the masked columns replaced."""
    if not masked:
        return frame
    out = frame.copy()
    for column, method in masked.items():
        if column in out.columns:
            out[column] = [mask_value(None if v != v else v, method) for v in out[column].tolist()]
    return out


def local_user() -> str:
    """The OS user, who is the caller of the notebook/Python API."""
    import getpass

    return getpass.getuser()


def mask_training_frame(
    ws: Workspace, frame: pd.DataFrame, refs: list[str], user: str | None = None
) -> pd.DataFrame:
    """Mask a training frame's sensitive feature columns unless ``user`` (default: OS user) holds grants."""
    who = user or local_user()
    masked, granted = plan(ws, who, ws.project, refs)
    if granted:
        from shipyard.governance.service import governance_for

        governance_for(ws).audit.append(
            who, ws.project, "features.read_sensitive", ",".join(granted), "allowed", {"refs": granted}
        )
    return mask_frame(frame, masked)


def guarded_read(
    ws: Workspace,
    principal: Principal,
    project: str,
    refs: list[str],
    read: Callable[[], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Run ``read`` and mask what ``principal`` may not see; a read of granted sensitive columns is audited.

    The audit record is written before the read, so a failing audit refuses the read (fail closed).
    """
    masked, granted = plan(ws, principal.name, project, refs)
    if granted:
        from shipyard.governance.service import governance_for

        governance_for(ws).audit.append(
            principal.name,
            project,
            "features.read_sensitive",
            ",".join(granted),
            "allowed",
            {"refs": granted},
        )
    rows = read()
    # The rows were built for this call alone, so they are masked in place (no copy on the hot path).
    for row in rows if masked else []:
        for column, method in masked.items():
            if column in row:
                row[column] = None if method == "null" else mask_value(row[column], method)
    return rows


def masked_columns(ws: Workspace, user: str, project: str, asset: str) -> dict[str, str]:
    """Columns of ``asset`` whose values ``user`` may not read -> method (for previews, exports, copilot)."""
    sensitive = {col: m for (name, col), m in sensitive_columns(ws, project).items() if name == asset}
    if not sensitive:
        return {}
    grants = AccessService(ws.store).grants(user, project)
    if {(asset, "*"), ("*", "*")} & grants:
        return {}
    return {col: m for col, m in sensitive.items() if (asset, col) not in grants}


def is_readable(ws: Workspace, user: str, project: str, asset: str, column: str) -> bool:
    """Whether ``user`` may see the values of ``asset``.``column`` (its existence is always visible)."""
    return column not in masked_columns(ws, user, project, asset)
