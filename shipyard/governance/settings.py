"""The ``[governance]`` section of ``shipyard.toml``: body cap, audit checkpoints, optional OIDC."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

_HS = {"HS256", "HS384", "HS512"}
_ASYM = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}


class OidcSettings(BaseModel):
    """Bearer JWTs from an identity provider; ``sub`` (or ``user_claim``) names the Shipyard user."""

    enabled: bool = False
    issuer: str = ""
    audience: str = Field("", description="required 'aud' value")
    algorithms: list[str] = Field(default_factory=lambda: ["RS256"], description="allow-list, one family")
    public_key: str = Field("", description="PEM public key (RS/PS/ES/EdDSA)")
    hmac_secret: str = Field("", description="shared secret, only with HS* algorithms")
    user_claim: str = "sub"
    leeway_s: int = Field(30, ge=0, le=300)

    @field_validator("algorithms")
    @classmethod
    def _one_family(cls, value: list[str]) -> list[str]:
        # Mixing HS with asymmetric algorithms is the classic confusion: the public key becomes an HMAC secret.
        if not value:
            raise ValueError("list at least one algorithm")
        unknown = [a for a in value if a not in _HS | _ASYM]
        if unknown:
            raise ValueError(f"algorithms {unknown} are not allowed ('none' never is)")
        if set(value) & _HS and set(value) & _ASYM:
            raise ValueError("do not mix HS* with RS/PS/ES algorithms; pick one family")
        return value


class GovernanceSettings(BaseModel):
    """Governance knobs with safe defaults."""

    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0, description="larger request bodies get 413")
    audit_checkpoint_every: int = Field(100, ge=1, description="sign a checkpoint every N audit records")
    hide_other_projects: bool = Field(True, description="404 instead of 403 for another project's resources")
    oidc: OidcSettings = OidcSettings()
