"""catalog generation: a counter every asset write or removal bumps, by trigger

Revision ID: 0005_catalog_generation
Revises: 0004_gov_generation

The copilot asks "has the catalog changed since the index was last brought up to date?" on every question.
Reading this one row answers it; only when it moved does the indexer run its changed/removed queries.
Triggers (rather than service code) bump it in the writing transaction, so a change made by any process or
writer sharing the store is seen on the next question. Lineage edges are not watched: indexed documents
do not contain them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_catalog_generation"
down_revision = "0004_gov_generation"
branch_labels = None
depends_on = None

WATCHED = ("assets", "asset_tombstones")
_BUMP = "UPDATE catalog_generation SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "catalog_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO catalog_generation (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER catalog_gen_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {_BUMP}; END"
                )
    else:  # PostgreSQL
        op.execute(
            "CREATE FUNCTION catalog_generation_bump() RETURNS trigger AS $$ "
            f"BEGIN {_BUMP}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER catalog_gen_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION catalog_generation_bump()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS catalog_gen_{table}_{event}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS catalog_gen_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalog_generation_bump()")
    op.drop_table("catalog_generation")
