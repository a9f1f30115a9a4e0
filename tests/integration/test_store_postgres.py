"""The metadata store on a real PostgreSQL: every migration applies, and the generation counters that the
governance decision cache and the copilot's change check rely on are bumped by the PostgreSQL triggers
(statement-level, plpgsql) of migrations 0004 and 0005, also for writes made by another process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.config import default_toml
from shipyard.errors import Unauthorized
from shipyard.governance.roles import Role
from shipyard.governance.service import governance_for
from shipyard.workspace import Workspace
from tests.integration.postgres_server import PostgresServer, start_postgres
from tests.unit.governance.test_gov_decisions import _in_other_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture()
def pg_workspace(postgres: PostgresServer, tmp_path: Path) -> Iterator[Workspace]:
    from sqlalchemy import create_engine

    # A fresh database per test, so every test starts from migration 0001.
    database = f"ws_{tmp_path.name.lower().replace('-', '_')}"[:60]
    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()
    url = postgres.url.rsplit("/", 1)[0] + f"/{database}"
    root = tmp_path / "ws"
    root.mkdir()
    toml = re.sub(r'(\[store\]\nurl = )""', lambda m: f'{m.group(1)}"{url}"', default_toml("pg"), count=1)
    assert url in toml
    (root / "shipyard.toml").write_text(toml)
    ws = Workspace.open(root)
    yield ws
    ws.close()


def test_every_migration_applies_on_postgresql(pg_workspace: Workspace) -> None:
    from sqlalchemy import inspect

    engine = pg_workspace.store.engine
    assert engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        head = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        triggers = {
            row[0]
            for row in conn.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").fetchall()
        }
    assert head == "0005_catalog_generation"
    assert {"gov_generation", "catalog_generation", "api_tokens"} <= set(inspect(engine).get_table_names())
    assert {"gov_gen_api_tokens", "gov_gen_gov_role_bindings"} <= triggers


def test_a_governance_change_from_another_process_applies_to_the_next_lookup(pg_workspace: Workspace) -> None:
    gov = governance_for(pg_workspace)
    gov.access.add_user("ann")
    gov.access.bind("ann", pg_workspace.project, "viewer")
    issued = pg_workspace.tokens.create("ann", user="ann")
    before = gov.decisions.generation()
    assert gov.principal_for_token(issued.secret).role_in(pg_workspace.project) is Role.viewer
    assert gov.principal_for_token(issued.secret).role_in(pg_workspace.project) is Role.viewer  # cached

    _in_other_process(pg_workspace.root, "gov.access.bind('ann', ws.project, 'maintainer')")
    assert gov.decisions.generation() > before
    assert gov.principal_for_token(issued.secret).role_in(pg_workspace.project) is Role.maintainer

    # A write that bypasses the services is still seen: the trigger, not service code, bumps the counter.
    with pg_workspace.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE api_tokens SET revoked_at = now()")
    with pytest.raises(Unauthorized):
        gov.principal_for_token(issued.secret)


def test_catalog_writes_from_another_process_move_the_catalog_generation(pg_workspace: Workspace) -> None:
    catalog = pg_workspace.catalog
    start = catalog.generation()
    assert start is not None
    catalog.register([{"kind": "table", "name": "sales.orders", "title": "Orders", "description": "one row"}])
    registered = catalog.generation()
    assert registered is not None and registered > start
    _in_other_process(pg_workspace.root, "ws.catalog.remove('table', 'sales.orders')")
    removed = catalog.generation()
    assert removed is not None and removed > registered
    assert [a.name for a in catalog.list()] == []
