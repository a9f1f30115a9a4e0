"""Bearer-token authentication, applied to every route except health."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shipyard.governance.tokens import TokenInfo
from shipyard.workspace import Workspace

_bearer = HTTPBearer(auto_error=False, description="Token from `shipyard init` or `shipyard token create`")


def get_workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def require_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> TokenInfo:
    """Verify the bearer token against the workspace's hashed tokens (raises ``Unauthorized``)."""
    secret = credentials.credentials if credentials is not None else None
    return get_workspace(request).tokens.verify(secret)
