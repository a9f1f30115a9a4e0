"""Sensitive columns: masked by method unless granted; existence stays discoverable; granted reads audited."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from shipyard.governance import masking
from shipyard.governance.roles import Principal, Role
from shipyard.governance.service import governance_for

REFS = ["customers:email", "customers:ltv", "customers:ssn", "accounts:iban"]
ROWS = [
    {
        "customer_id": 1,
        "email": "ann@x.io",
        "ltv": 10.0,
        "ssn": "123-45-6789",
        "iban": "DE89370400440532013000",
    }
]


@pytest.fixture()
def ws(workspace: Any) -> Any:
    masking.invalidate()
    workspace.catalog.upsert(
        "feature_view",
        "customers",
        columns=[
            {"name": "email", "type": "string", "sensitive": True},
            {"name": "ltv", "type": "float"},
            {"name": "ssn", "type": "string", "sensitive": True},
        ],
    )
    workspace.catalog.upsert(
        "feature_view", "accounts", tags=["pii"], columns=[{"name": "iban", "type": "string"}]
    )
    governance_for(workspace).access.set_mask_policy(workspace.project, "pii", "partial")
    return workspace


@pytest.mark.parametrize(
    ("method", "value", "expected"),
    [
        ("null", "secret", None),
        ("hash", "secret", "sha256:2bb80d537b1da3e3"),
        ("partial", "DE89370400440532013000", "******************3000"),
        ("partial", "ab", "****"),
        ("hash", None, None),
    ],
)
def test_mask_value(method: str, value: Any, expected: Any) -> None:
    assert masking.mask_value(value, method) == expected


def test_sensitive_columns_are_masked_without_a_grant(ws: Any) -> None:
    sensitive = masking.sensitive_columns(ws, ws.project)
    assert sensitive == {
        ("customers", "email"): "null",
        ("customers", "ssn"): "null",
        ("accounts", "iban"): "partial",
    }
    who = Principal("ann", roles={ws.project: Role.admin})  # even an admin needs an explicit grant
    rows = masking.guarded_read(ws, who, ws.project, REFS, lambda: [dict(r) for r in ROWS])
    assert rows == [
        {"customer_id": 1, "email": None, "ltv": 10.0, "ssn": None, "iban": "******************3000"}
    ]
    assert list(governance_for(ws).audit.entries()) == []  # masked reads are not sensitive reads


def test_a_grant_unmasks_one_column_and_the_read_is_audited(ws: Any) -> None:
    governance_for(ws).access.grant("ann", ws.project, "customers", "email")
    who = Principal("ann", roles={ws.project: Role.viewer})
    rows = masking.guarded_read(ws, who, ws.project, REFS, lambda: [dict(r) for r in ROWS])
    assert rows[0]["email"] == "ann@x.io" and rows[0]["ssn"] is None
    (entry,) = governance_for(ws).audit.entries()
    assert (entry.actor, entry.action, entry.target) == ("ann", "features.read_sensitive", "customers:email")


def test_a_read_of_granted_columns_is_refused_when_audit_fails(ws: Any) -> None:
    from shipyard.governance.audit import AuditUnavailable

    governance_for(ws).access.grant("ann", ws.project, "customers", "*")
    with ws.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE audit_log")
    who = Principal("ann", roles={ws.project: Role.viewer})
    read_happened = []
    with pytest.raises(AuditUnavailable):
        masking.guarded_read(ws, who, ws.project, REFS, lambda: read_happened.append(1) or [])  # type: ignore[func-returns-value]
    assert read_happened == []


def test_training_frames_are_masked_too(ws: Any) -> None:
    frame = pd.DataFrame(ROWS)
    out = masking.mask_training_frame(ws, frame, REFS, user="bob")
    assert out["email"].tolist() == [None] and out["ltv"].tolist() == [10.0]
    assert frame["email"].tolist() == ["ann@x.io"]  # the input is not modified


def test_existence_stays_discoverable(ws: Any) -> None:
    asset = ws.catalog.get("feature_view", "customers")
    names = [c["name"] for c in asset.columns]
    assert "ssn" in names and "email" in names


def test_copilot_helpers(ws: Any) -> None:
    assert masking.masked_columns(ws, "bob", ws.project, "customers") == {"email": "null", "ssn": "null"}
    governance_for(ws).access.grant("bob", ws.project, "customers", "ssn")
    assert masking.is_readable(ws, "bob", ws.project, "customers", "ssn")
    assert not masking.is_readable(ws, "bob", ws.project, "customers", "email")
    assert masking.is_readable(ws, "bob", ws.project, "customers", "ltv")


def test_granted_training_frame_reads_are_audited(ws: Any) -> None:
    governance_for(ws).access.grant("carol", ws.project, "customers", "*")
    out = masking.mask_training_frame(ws, pd.DataFrame(ROWS), REFS, user="carol")
    assert out["email"].tolist() == ["ann@x.io"] and out["iban"].tolist() == ["******************3000"]
    (entry,) = governance_for(ws).audit.entries()
    assert entry.actor == "carol" and entry.target == "customers:email,customers:ssn"
