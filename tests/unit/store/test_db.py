from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from shipyard.store.db import MetadataStore
from shipyard.store.models import Base, Deployment, Event


def test_fresh_store_is_at_head_with_every_table(tmp_path: Path) -> None:
    store = MetadataStore.connect(f"sqlite:///{tmp_path / 'm.db'}")
    assert store.current_revision() is not None
    names = set(sa.inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= names
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_older_store_upgrades_in_place_keeping_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    old = MetadataStore.connect(url, migrate=False)
    old.upgrade("0001_initial")
    with old.session() as s:
        s.add(Event(project="p", kind="k", payload={"a": 1}))
    old.dispose()
    new = MetadataStore.connect(url)
    with new.session() as s:
        assert s.scalars(sa.select(Event)).one().payload == {"a": 1}
    new.dispose()


def test_session_rolls_back_on_error(tmp_path: Path) -> None:
    store = MetadataStore.connect(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with store.session() as s:
            s.add(
                Deployment(
                    project="p", name="d", model_name="m", model_version="1", model_uri="u", triton_model="t"
                )
            )
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with store.session() as s:
        assert s.scalars(sa.select(Deployment)).all() == []
    store.dispose()
