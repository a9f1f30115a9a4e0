"""Users, projects, role bindings, column grants and mask policies, and who a token acts as."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from shipyard.errors import Conflict, InvalidInput, NotFound, Unauthorized
from shipyard.governance.inputs import identifier
from shipyard.governance.models import ColumnGrant, MaskPolicy, RoleBinding, User
from shipyard.governance.roles import Principal, Role
from shipyard.governance.tokens import TokenInfo
from shipyard.store.db import MetadataStore
from shipyard.store.models import Project, utcnow

MASK_METHODS = ("null", "hash", "partial")


@dataclass(frozen=True)
class Binding:
    """``user`` holds ``role`` in ``project``."""

    user: str
    project: str
    role: str


@dataclass(frozen=True)
class Grant:
    """``user`` may read unmasked ``asset``.``column`` in ``project``."""

    user: str
    project: str
    asset: str
    column: str


class AccessService:
    """Reads and changes who may do what; every change is the caller's to audit."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    # -- users and projects ----------------------------------------------------------------------------
    def add_user(self, name: str, *, service: bool = False) -> str:
        """Create a user (or service account) called ``name``."""
        name = identifier(name, "user", kind="user")
        try:
            with self._store.session() as s:
                s.add(User(name=name, kind="service" if service else "user"))
        except IntegrityError:
            raise Conflict(f"user {name!r} already exists; `shipyard access users` lists them") from None
        return name

    def users(self) -> list[dict[str, object]]:
        """Every user with its kind and whether it is disabled."""
        with self._store.session() as s:
            rows = s.scalars(select(User).order_by(User.name)).all()
            return [{"name": u.name, "kind": u.kind, "disabled": u.disabled_at is not None} for u in rows]

    def disable_user(self, name: str) -> None:
        """Disable ``name``: its tokens stop working on the next request."""
        with self._store.session() as s:
            user = s.scalars(select(User).where(User.name == name)).first()
            if user is None:
                raise NotFound(f"no user {name!r}; `shipyard access users` lists them")
            user.disabled_at = utcnow()

    def add_project(self, name: str) -> str:
        """Create project ``name`` (idempotent)."""
        name = identifier(name, "project", kind="project")
        with self._store.session() as s:
            if s.scalars(select(Project).where(Project.name == name)).first() is None:
                s.add(Project(name=name))
        return name

    def projects(self) -> list[str]:
        """Names of the known projects."""
        with self._store.session() as s:
            return list(s.scalars(select(Project.name).order_by(Project.name)).all())

    # -- role bindings -------------------------------------------------------------------------------
    def bind(self, user: str, project: str, role: str) -> Binding:
        """Give ``user`` ``role`` in ``project`` (replacing the one it had)."""
        parsed = Role.parse(role)
        self.add_project(project)
        with self._store.session() as s:
            if s.scalars(select(User).where(User.name == user)).first() is None:
                raise NotFound(f"no user {user!r}; create it with `shipyard access user-add {user}`")
            row = s.scalars(
                select(RoleBinding).where(RoleBinding.user == user, RoleBinding.project == project)
            ).first()
            if row is None:
                s.add(RoleBinding(user=user, project=project, role=parsed.name))
            else:
                row.role = parsed.name
        return Binding(user, project, parsed.name)

    def unbind(self, user: str, project: str) -> None:
        """Remove ``user``'s role in ``project``."""
        with self._store.session() as s:
            result = s.execute(
                delete(RoleBinding).where(RoleBinding.user == user, RoleBinding.project == project)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"{user!r} has no role in project {project!r}")

    def bindings(self, project: str | None = None) -> list[Binding]:
        """Role bindings, of one project or all."""
        query = select(RoleBinding).order_by(RoleBinding.project, RoleBinding.user)
        if project is not None:
            query = query.where(RoleBinding.project == project)
        with self._store.session() as s:
            return [Binding(b.user, b.project, b.role) for b in s.scalars(query).all()]

    # -- column grants and mask policies ---------------------------------------------------------------
    def grant(self, user: str, project: str, asset: str, column: str = "*", *, by: str = "") -> Grant:
        """Let ``user`` read the unmasked values of ``asset``.``column``."""
        try:
            with self._store.session() as s:
                s.add(ColumnGrant(user=user, project=project, asset=asset, column=column, granted_by=by))
        except IntegrityError:
            pass  # already granted: granting twice is not an error
        return Grant(user, project, asset, column)

    def revoke_grant(self, user: str, project: str, asset: str, column: str = "*") -> None:
        """Withdraw a grant."""
        with self._store.session() as s:
            s.execute(
                delete(ColumnGrant).where(
                    ColumnGrant.user == user,
                    ColumnGrant.project == project,
                    ColumnGrant.asset == asset,
                    ColumnGrant.column == column,
                )
            )

    def grants(self, user: str, project: str) -> set[tuple[str, str]]:
        """(asset, column) pairs ``user`` may read unmasked in ``project``."""
        query = select(ColumnGrant.asset, ColumnGrant.column).where(
            ColumnGrant.user == user, ColumnGrant.project == project
        )
        with self._store.engine.connect() as conn:
            return {(r.asset, r.column) for r in conn.execute(query)}

    def set_mask_policy(self, project: str, tag: str, method: str) -> None:
        """Mask every column of assets tagged ``tag`` with ``method``."""
        if method not in MASK_METHODS:
            raise InvalidInput(f"method: {method!r} is not one of {', '.join(MASK_METHODS)}")
        with self._store.session() as s:
            row = s.scalars(
                select(MaskPolicy).where(MaskPolicy.project == project, MaskPolicy.tag == tag)
            ).first()
            if row is None:
                s.add(MaskPolicy(project=project, tag=tag, method=method))
            else:
                row.method = method

    def mask_policies(self, project: str) -> dict[str, str]:
        """tag -> method for ``project``."""
        query = select(MaskPolicy.tag, MaskPolicy.method).where(MaskPolicy.project == project)
        with self._store.engine.connect() as conn:
            return {r.tag: r.method for r in conn.execute(query)}

    # -- principals ----------------------------------------------------------------------------------
    def principal_for(self, token: TokenInfo, served_project: str) -> Principal:
        """Who ``token`` acts as: its own binding, its user's bindings, or admin of ``served_project``."""
        if token.kind == "workspace" and token.user is None and token.project is None:
            return Principal(token.name, "workspace", {served_project: Role.admin}, token.prefix)
        if token.role is not None and token.project is not None:
            name = token.user or token.name
            if token.user is not None:
                self._require_active(token.user)
            return Principal(name, token.kind, {token.project: Role[token.role]}, token.prefix)
        if token.user is None:
            return Principal(token.name, token.kind, {}, token.prefix)
        roles = self.roles_of(token.user)
        if token.project is not None:
            roles = {p: r for p, r in roles.items() if p == token.project}
        return Principal(token.user, token.kind, roles, token.prefix)

    def principal_for_user(self, user: str) -> Principal:
        """The principal of a named user (OIDC subject, Jupyter user) with its role bindings."""
        return Principal(user, "user", self.roles_of(user))

    def roles_of(self, user: str) -> dict[str, Role]:
        """project -> role for an active ``user`` (Unauthorized when it is unknown or disabled)."""
        # One round trip: this runs on every request made with a user's token.
        query = (
            select(User.disabled_at, RoleBinding.project, RoleBinding.role)
            .outerjoin(RoleBinding, RoleBinding.user == User.name)
            .where(User.name == user)
        )
        with self._store.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            raise Unauthorized(
                f"user {user!r} is unknown; an admin creates it with `shipyard access user-add`"
            )
        if rows[0].disabled_at is not None:
            raise Unauthorized(f"user {user!r} is disabled")
        return {r.project: Role[r.role] for r in rows if r.project is not None}

    def _require_active(self, user: str) -> None:
        query = select(User.disabled_at).where(User.name == user)
        with self._store.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise Unauthorized(
                f"user {user!r} is unknown; an admin creates it with `shipyard access user-add`"
            )
        if row.disabled_at is not None:
            raise Unauthorized(f"user {user!r} is disabled")
