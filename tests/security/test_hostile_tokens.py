"""Expired, revoked, forged and confused credentials, over the real REST app."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from shipyard.governance.settings import GovernanceSettings, OidcSettings
from shipyard.server.app import create_app

from .conftest import GovEnv

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
PUBLIC_PEM = (
    _KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "ann", "aud": "shipyard", "iss": "https://idp.test", "iat": now, "exp": now + 600} | over


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture()
def oidc_client(gov_env: GovEnv) -> Iterator[TestClient]:
    gov_env.gov.settings = GovernanceSettings(
        oidc=OidcSettings(
            enabled=True,
            issuer="https://idp.test",
            audience="shipyard",
            algorithms=["RS256"],
            public_key=PUBLIC_PEM,
        )
    )
    gov_env.gov.access.add_user("ann")
    gov_env.gov.access.bind("ann", "own", "viewer")
    with TestClient(create_app(gov_env.ws, close_on_shutdown=False)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_rs256_jwt_maps_to_the_users_roles(oidc_client: TestClient) -> None:
    token = jwt.encode(claims(), PRIVATE_PEM, algorithm="RS256")
    assert oidc_client.get("/api/v1/pipelines", headers=bearer(token)).status_code == 200
    r = oidc_client.post("/api/v1/features/apply", headers=bearer(token))
    assert r.status_code == 403  # ann is a viewer


BAD_JWTS = {
    "alg-none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims())}.",
    "hs256-with-public-key": lambda: jwt.encode(claims(), PUBLIC_PEM.encode()[:64], algorithm="HS256"),
    "expired": lambda: jwt.encode(claims(exp=int(time.time()) - 3600), PRIVATE_PEM, algorithm="RS256"),
    "wrong-audience": lambda: jwt.encode(claims(aud="other-app"), PRIVATE_PEM, algorithm="RS256"),
    "wrong-issuer": lambda: jwt.encode(claims(iss="https://evil.test"), PRIVATE_PEM, algorithm="RS256"),
    "no-exp": lambda: jwt.encode(
        {k: v for k, v in claims().items() if k != "exp"}, PRIVATE_PEM, algorithm="RS256"
    ),
    "unknown-user": lambda: jwt.encode(claims(sub="mallory"), PRIVATE_PEM, algorithm="RS256"),
    "tampered-payload": lambda: ".".join(
        [
            *jwt.encode(claims(), PRIVATE_PEM, algorithm="RS256").split(".")[:1],
            _b64(claims(sub="admin")),
            jwt.encode(claims(), PRIVATE_PEM, algorithm="RS256").split(".")[2],
        ]
    ),
    "garbage": lambda: "a.b.c",
}


@pytest.mark.parametrize("name", list(BAD_JWTS))
def test_forged_or_confused_jwts_are_401(oidc_client: TestClient, name: str) -> None:
    r = oidc_client.get("/api/v1/pipelines", headers=bearer(BAD_JWTS[name]()))
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"


def test_jwts_are_refused_when_oidc_is_off(client: TestClient) -> None:
    token = jwt.encode(claims(), PRIVATE_PEM, algorithm="RS256")
    assert client.get("/api/v1/pipelines", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("algorithms", [["none"], ["HS256", "RS256"], [], ["RS1"]])
def test_unsafe_algorithm_allow_lists_are_config_errors(algorithms: list[str]) -> None:
    with pytest.raises(ValidationError):
        OidcSettings(algorithms=algorithms)


def test_expired_shipyard_token_is_401(client: TestClient, gov_env: GovEnv) -> None:
    issued = gov_env.ws.tokens.create("short", user="viewer", expires_in=timedelta(minutes=5))
    assert client.get("/api/v1/pipelines", headers=bearer(issued.secret)).status_code == 200
    with gov_env.ws.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE gov_token_bindings SET expires_at = '2001-01-01 00:00:00'"))
    r = client.get("/api/v1/pipelines", headers=bearer(issued.secret))
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_revoked_user_token_is_401_on_the_next_request(client: TestClient, gov_env: GovEnv) -> None:
    h = gov_env.headers("scientist")
    assert client.get("/api/v1/pipelines", headers=h).status_code == 200
    gov_env.ws.tokens.revoke(gov_env.tokens["scientist"][:10])
    assert client.get("/api/v1/pipelines", headers=h).status_code == 401


def test_disabled_user_is_401_on_the_next_request(client: TestClient, gov_env: GovEnv) -> None:
    h = gov_env.headers("viewer")
    assert client.get("/api/v1/pipelines", headers=h).status_code == 200
    gov_env.gov.access.disable_user("viewer")
    assert client.get("/api/v1/pipelines", headers=h).status_code == 401


@pytest.mark.parametrize(
    "secret",
    ["shp_" + "A" * 43, "shp_", "shp_' OR '1'='1", "x" * 5000, "shp_\u0000abc"],
)
def test_forged_shipyard_tokens_are_401(client: TestClient, secret: str) -> None:
    r = client.get(
        "/api/v1/pipelines",
        headers={"Authorization": f"Bearer {secret}".encode("utf-8", "surrogateescape").decode("latin-1")},
    )
    assert r.status_code == 401


def test_denied_attempts_are_audited(client: TestClient, gov_env: GovEnv) -> None:
    client.get("/api/v1/pipelines", headers=bearer("shp_forged"))
    client.post("/api/v1/features/apply", headers=gov_env.headers("viewer"))
    denied = [e for e in gov_env.gov.audit.entries() if e.outcome == "denied"]
    assert [(e.actor, e.action) for e in denied] == [
        ("anonymous", "pipelines.read"),
        ("viewer", "features.apply"),
    ]
    assert gov_env.gov.audit.verify().ok
