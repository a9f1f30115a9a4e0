"""catalog: lineage edges and asset fields (filled in by the catalog change)

Revision ID: 0002_catalog
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_catalog"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server defaults so rows written before this revision read as "no columns, undocumented by a person".
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("columns", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("freshness", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("description_status", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.create_index("ix_assets_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "asset_edges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("src_kind", sa.String(length=40), nullable=False),
        sa.Column("src_name", sa.String(length=400), nullable=False),
        sa.Column("dst_kind", sa.String(length=40), nullable=False),
        sa.Column("dst_name", sa.String(length=400), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project", "src_kind", "src_name", "dst_kind", "dst_name", "relation", "origin"),
    )
    with op.batch_alter_table("asset_edges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_edges_project"), ["project"], unique=False)
        batch_op.create_index("ix_asset_edges_src", ["project", "src_kind", "src_name"], unique=False)
        batch_op.create_index("ix_asset_edges_dst", ["project", "dst_kind", "dst_name"], unique=False)

    op.create_table(
        "asset_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project", "kind", "name"),
    )
    with op.batch_alter_table("asset_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_tombstones_project"), ["project"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_tombstones_removed_at"), ["removed_at"], unique=False)


def downgrade() -> None:
    op.drop_table("asset_tombstones")
    op.drop_table("asset_edges")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_updated_at")
        batch_op.drop_column("description_status")
        batch_op.drop_column("freshness")
        batch_op.drop_column("columns")
