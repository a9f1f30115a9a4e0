"""The governance facade of a workspace: access, audit, settings and the audited-decision helper."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shipyard.errors import EngineUnavailable, Forbidden, NotFound
from shipyard.governance.access import AccessService
from shipyard.governance.audit import AuditLog
from shipyard.governance.decisions import DecisionCache, secret_key
from shipyard.governance.roles import Principal, authorize
from shipyard.governance.settings import GovernanceSettings

if TYPE_CHECKING:
    from shipyard.store.db import MetadataStore
    from shipyard.workspace import Workspace


class Governance:
    """Access control and audit for one workspace (reached through ``governance_for(ws)``)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        configured = getattr(ws.config, "governance", None)
        self.settings: GovernanceSettings = (
            configured if isinstance(configured, GovernanceSettings) else GovernanceSettings()
        )

    @cached_property
    def access(self) -> AccessService:
        return AccessService(self.ws.store)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.ws.store, self.ws.state_dir, self.settings.audit_checkpoint_every)

    @cached_property
    def decisions(self) -> DecisionCache:
        return DecisionCache(self.ws.store)

    def principal_for_token(self, secret: str | None) -> Principal:
        """Who a Shipyard bearer token acts as (cached until any token/role change; raises Unauthorized)."""
        if not secret:
            self.ws.tokens.verify(secret)  # raises the "missing bearer token" message

        def compute() -> tuple[Principal, datetime | None]:
            info = self.ws.tokens.verify(secret)
            return self.access.principal_for(info, self.ws.project), info.expires_at

        return self.decisions.get(("token", secret_key(str(secret))), compute)

    def principal_for_user(self, user: str) -> Principal:
        """The principal of a named user (OIDC subject), cached like ``principal_for_token``."""
        return self.decisions.get(("user", user), lambda: (self.access.principal_for_user(user), None))

    def grants(self, user: str, project: str) -> set[tuple[str, str]]:
        """(asset, column) pairs ``user`` may read unmasked in ``project`` (cached like principals)."""
        return self.decisions.get(
            ("grants", user, project), lambda: (self.access.grants(user, project), None)
        )

    def check(
        self,
        principal: Principal,
        action: str,
        project: str,
        target: str = "",
        *,
        hide: bool = False,
        audit: bool = False,
        payload: Any = None,
    ) -> None:
        """``authorize`` with the audit trail: denials always recorded, allowed changes when ``audit``."""
        try:
            authorize(principal, action, project, hide=hide)
        except (Forbidden, NotFound) as exc:
            self.audit.append(principal.name, project, action, target, "denied", {"reason": exc.message})
            raise
        if audit:
            # Fail closed: if this append raises, the caller never performs the action.
            self.audit.append(principal.name, project, action, target, "allowed", payload)

    def record_change(self, actor: str, action: str, project: str, target: str, payload: Any = None) -> None:
        """Audit a change before making it (a failed append raises, so the change never happens)."""
        self.audit.append(actor, project, action, target, "allowed", payload)


def governance_for(ws: Workspace) -> Governance:
    """The workspace's Governance, built once (stored where a ``Workspace.governance`` property would)."""
    gov = ws.__dict__.get("governance")
    if not isinstance(gov, Governance):
        open_store(ws)
        gov = Governance(ws)
        ws.__dict__["governance"] = gov
    return gov


def open_store(ws: Workspace) -> MetadataStore:
    """The workspace's store; a corrupted database file is a clear ``EngineUnavailable``, not a traceback."""
    from sqlalchemy.exc import DatabaseError

    try:
        return ws.store
    except DatabaseError as exc:
        raise EngineUnavailable(
            f"metadata store of {ws.root} cannot be read ({exc.orig}); it may be corrupted: restore "
            f"{ws.state_dir / 'shipyard.db'} from a backup (nothing was written)"
        ) from exc


def cli_actor() -> str:
    """The actor recorded for local CLI/Python changes: the OS user who ran them."""
    import getpass

    return f"local:{getpass.getuser()}"
