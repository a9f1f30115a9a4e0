"""Verify OIDC/JWT bearer tokens: signature, audience, issuer, expiry, and an algorithm allow-list."""

from __future__ import annotations

from shipyard.errors import Unauthorized
from shipyard.governance.settings import OidcSettings


def looks_like_jwt(secret: str) -> bool:
    """Three dot-separated segments: a JWS compact serialisation."""
    return secret.count(".") == 2


def verify_jwt(token: str, settings: OidcSettings) -> str:
    """The user the token names, or ``Unauthorized``; ``alg=none`` and algorithm confusion are refused."""
    import jwt

    if not settings.enabled:
        raise Unauthorized("JWT bearer tokens are not enabled here; use a Shipyard token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"malformed JWT: {exc}") from exc
    alg = str(header.get("alg", ""))
    if alg not in settings.algorithms:
        raise Unauthorized(
            f"JWT algorithm {alg!r} is not allowed (allowed: {', '.join(settings.algorithms)})"
        )
    key = settings.hmac_secret if alg.startswith("HS") else settings.public_key
    if not key:
        raise Unauthorized("no verification key is configured for JWTs")
    options = {"require": ["exp", "aud", "sub"] if settings.user_claim == "sub" else ["exp", "aud"]}
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=settings.audience or None,
            issuer=settings.issuer or None,
            leeway=settings.leeway_s,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"JWT rejected: {exc}") from exc
    user = claims.get(settings.user_claim)
    if not isinstance(user, str) or not user:
        raise Unauthorized(f"JWT has no {settings.user_claim!r} claim naming the user")
    return user
