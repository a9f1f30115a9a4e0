"""governance: users, role bindings, grants, masking policies, audit chain (filled in by the governance change)

Revision ID: 0003_governance
Revises: 0002_catalog
"""

from __future__ import annotations

revision = "0003_governance"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
