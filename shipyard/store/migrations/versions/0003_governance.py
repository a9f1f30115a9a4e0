"""governance: users, role bindings, token bindings, column grants, masking policies, audit chain

Revision ID: 0003_governance
Revises: 0002_catalog
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_governance"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gov_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("disabled_at", _TS, nullable=True),
    )
    op.create_table(
        "gov_role_bindings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(200), nullable=False, index=True),
        sa.Column("project", sa.String(200), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("user", "project"),
    )
    op.create_table(
        "gov_token_bindings",
        sa.Column("token_id", sa.Integer, sa.ForeignKey("api_tokens.id"), primary_key=True),
        sa.Column("user", sa.String(200), nullable=True),
        sa.Column("project", sa.String(200), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
    )
    op.create_table(
        "gov_column_grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(200), nullable=False, index=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("asset", sa.String(400), nullable=False),
        sa.Column("column", sa.String(400), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("user", "project", "asset", "column"),
    )
    op.create_table(
        "gov_mask_policies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("tag", sa.String(200), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.UniqueConstraint("project", "tag"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_checkpoints",
        "audit_log",
        "gov_mask_policies",
        "gov_column_grants",
        "gov_token_bindings",
        "gov_role_bindings",
        "gov_users",
    ):
        op.drop_table(table)
