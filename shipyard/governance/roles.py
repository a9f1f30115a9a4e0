"""Roles, actions and the one authorization function every surface calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from shipyard.errors import Forbidden, InvalidInput, NotFound


class Role(IntEnum):
    """Per-project roles; each includes the rights of the ones below it."""

    viewer = 1
    scientist = 2
    maintainer = 3
    admin = 4

    @classmethod
    def parse(cls, value: str, field_name: str = "role") -> Role:
        """The role called ``value``; anything else is ``InvalidInput`` listing the roles."""
        try:
            return cls[value.strip().lower()]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise InvalidInput(f"{field_name}: unknown role {value!r}; use one of {names}") from None


# Action -> the least role that may perform it. "public" needs no credentials at all.
ACTIONS: dict[str, Role | None] = {
    "public": None,
    "project.read": Role.viewer,
    "features.read": Role.viewer,
    "features.read_online": Role.viewer,
    "features.define": Role.scientist,
    "features.apply": Role.scientist,
    "features.materialize": Role.scientist,
    "pipelines.read": Role.viewer,
    "pipelines.promote": Role.scientist,
    "pipelines.run": Role.scientist,
    "models.read": Role.viewer,
    "models.promote": Role.maintainer,
    "deployments.read": Role.viewer,
    "deployments.predict": Role.viewer,
    "deployments.deploy": Role.maintainer,
    "deployments.rollback": Role.maintainer,
    "deployments.delete": Role.maintainer,
    "monitor.read": Role.viewer,
    "monitor.write": Role.scientist,
    "metrics.read": Role.viewer,
    "catalog.read": Role.viewer,
    "catalog.write": Role.scientist,
    "copilot.ask": Role.viewer,
    "masked.read": Role.admin,
    "access.admin": Role.admin,
    "audit.read": Role.admin,
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, a service or a workspace token, with a role per project."""

    name: str
    kind: str = "user"  # user | service | workspace | anonymous
    roles: dict[str, Role] = field(default_factory=dict)
    token_prefix: str = ""

    def role_in(self, project: str) -> Role | None:
        """The principal's role in ``project`` (None: not a member)."""
        return self.roles.get(project)


ANONYMOUS = Principal(name="anonymous", kind="anonymous")


def required_role(action: str) -> Role | None:
    """The least role for ``action``; an unknown action is a programming error and is refused."""
    if action not in ACTIONS:
        raise Forbidden(f"action {action!r} has no policy; refused (add it to governance.roles.ACTIONS)")
    return ACTIONS[action]


def authorize(principal: Principal, action: str, project: str, *, hide: bool = False) -> Role | None:
    """Allow ``action`` on ``project`` or raise: 404 when ``hide`` and not a member, else 403."""
    needed = required_role(action)
    if needed is None:
        return None
    held = principal.role_in(project)
    if held is None:
        if hide:
            raise NotFound("not found (or you have no access to it); check the name and your project")
        raise Forbidden(
            f"{principal.name} has no role in project {project!r}; ask a project admin for one "
            "(`shipyard access bind USER PROJECT ROLE`)"
        )
    if held < needed:
        raise Forbidden(
            f"{action} in project {project!r} needs role {needed.name}; {principal.name} is {held.name}"
        )
    return held
