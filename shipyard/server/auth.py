"""Authentication and authorization for every route: one dependency applies the route policy table.

``enforce_policy`` finds the matched route's entry in ``governance.route_policy.ROUTE_POLICIES``, refuses a
route without one, authenticates the bearer (Shipyard token or, when enabled, an OIDC JWT), resolves the
project the request acts on and calls ``governance.roles.authorize``. Denials and audited changes are written
to the audit chain before the route runs; if that write fails the request is refused (503).
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from shipyard.errors import Forbidden, ShipyardError, Unauthorized
from shipyard.governance.oidc import looks_like_jwt, verify_jwt
from shipyard.governance.roles import ANONYMOUS, Principal, authorize
from shipyard.governance.route_policy import RoutePolicy, policy_for, resolve_project
from shipyard.governance.service import Governance, governance_for
from shipyard.governance.tokens import TOKEN_PREFIX, TokenInfo
from shipyard.workspace import Workspace

_bearer = HTTPBearer(auto_error=False, description="Token from `shipyard init` or `shipyard token create`")


def workspace_of(request: Request) -> Workspace:
    """The workspace the app serves."""
    ws: Workspace = request.app.state.workspace
    return ws


async def get_workspace(request: Request) -> Workspace:
    """``Depends(get_workspace)``: async, so FastAPI resolves it on the event loop, not a worker thread hop."""
    return workspace_of(request)


def require_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> TokenInfo:
    """Verify the bearer token against the workspace's hashed tokens (raises ``Unauthorized``)."""
    secret = credentials.credentials if credentials is not None else None
    return workspace_of(request).tokens.verify(secret)


def authenticate(gov: Governance, secret: str | None) -> Principal:
    """The principal behind a bearer secret: a Shipyard token, else (if enabled) an OIDC JWT."""
    if secret and not secret.startswith(TOKEN_PREFIX) and looks_like_jwt(secret):
        return gov.principal_for_user(verify_jwt(secret, gov.settings.oidc))
    return gov.principal_for_token(secret)


def route_template(request: Request) -> str:
    """The matched route's full path template (``/api/v1/deployments/{name}``), prefix included."""
    # FastAPI 0.16x mounts included routers lazily: scope["route"] holds the router-relative route, so the
    # prefix is recovered from the part of the path the route's own pattern does not match.
    route = request.scope.get("route")
    relative = getattr(route, "path_format", None)
    pattern = getattr(route, "path_regex", None)
    if relative is None or pattern is None:
        return str(request.scope.get("path", ""))
    path = str(request.scope.get("path", ""))
    root = str(request.scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    for i, char in enumerate(path):
        if char == "/" and pattern.fullmatch(path[i:]):
            return path[:i] + relative
    return str(relative)


async def enforce_policy(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """Apply the route's policy (app-wide dependency); the principal lands on ``request.state``.

    A read by a Shipyard token that is allowed is decided on the event loop (cached principal, one indexed
    read; ~0.2 ms), so the route pays no extra worker-thread hop; anything that writes the audit chain (a
    change, a denial) or may reach the network (OIDC keys) runs in a worker thread as before.
    """
    ws = workspace_of(request)
    template = route_template(request)
    policy = policy_for(request.method, template)
    if policy is None:
        raise Forbidden(
            f"{request.method} {template} has no authorization policy; refused "
            "(add it to shipyard/governance/route_policy.py)"
        )
    request.state.principal, request.state.project = ANONYMOUS, ws.project
    if policy.action == "public":
        return ANONYMOUS
    secret = credentials.credentials if credentials is not None else None
    if not policy.audit and secret and secret.startswith(TOKEN_PREFIX) and "governance" in ws.__dict__:
        try:
            return _allow_read(request, ws, policy, template, secret)
        except ShipyardError:
            pass  # denied or unknown: the worker-thread path below decides again and audits the denial
    return await run_in_threadpool(_enforce, request, ws, policy, template, secret)


def _allow_read(
    request: Request, ws: Workspace, policy: RoutePolicy, template: str, secret: str
) -> Principal:
    """Authorize an unaudited read without writing anything; raises (nothing recorded) when not allowed."""
    gov = governance_for(ws)
    principal = gov.principal_for_token(secret)
    params = {k: str(v) for k, v in request.path_params.items()}
    project = resolve_project(ws.store, policy, params, ws.project)
    authorize(principal, policy.action, project, hide=policy.hide and gov.settings.hide_other_projects)
    request.state.principal, request.state.project = principal, project
    return principal


def _enforce(
    request: Request, ws: Workspace, policy: RoutePolicy, template: str, secret: str | None
) -> Principal:
    gov = governance_for(ws)
    try:
        principal = authenticate(gov, secret)
    except Unauthorized as exc:
        gov.audit.append("anonymous", ws.project, policy.action, template, "denied", {"reason": exc.message})
        raise
    params = {k: str(v) for k, v in request.path_params.items()}
    project = resolve_project(ws.store, policy, params, ws.project)
    target = request.url.path
    hide = policy.hide and gov.settings.hide_other_projects
    gov.check(principal, policy.action, project, target, hide=hide, audit=policy.audit, payload=params)
    request.state.principal, request.state.project = principal, project
    return principal


def current_principal(request: Request) -> Principal:
    """The principal ``enforce_policy`` authorized for this request."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal
