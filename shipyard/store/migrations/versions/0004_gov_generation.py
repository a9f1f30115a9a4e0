"""governance generation: a counter every token/user/role/grant/mask-policy change bumps, by trigger

Revision ID: 0004_gov_generation
Revises: 0003_governance

Authorization decisions are cached in-process; each request reads this one row and drops the cache when it
moved, so a revocation takes effect on the very next request, in every process sharing the store. Triggers
(rather than service code) bump it, so a change made by any writer, in the same transaction, is seen.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_gov_generation"
down_revision = "0003_governance"
branch_labels = None
depends_on = None

WATCHED = (
    "api_tokens",
    "gov_token_bindings",
    "gov_users",
    "gov_role_bindings",
    "gov_column_grants",
    "gov_mask_policies",
)
_BUMP = "UPDATE gov_generation SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "gov_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO gov_generation (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER gov_gen_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {_BUMP}; END"
                )
    else:  # PostgreSQL
        op.execute(
            "CREATE FUNCTION gov_generation_bump() RETURNS trigger AS $$ "
            f"BEGIN {_BUMP}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER gov_gen_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION gov_generation_bump()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS gov_gen_{table}_{event}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS gov_gen_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS gov_generation_bump()")
    op.drop_table("gov_generation")
