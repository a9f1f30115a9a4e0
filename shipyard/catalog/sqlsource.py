"""SQL connector: tables and views of any SQLAlchemy database, read through its inspector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.catalog.sensitivity import looks_sensitive
from shipyard.errors import EngineUnavailable, InvalidInput

_MAX_TABLES = 10_000


def database_documents(url: str, schema: str | None = None) -> list[tuple[int, dict[str, Any]]]:
    """Catalog documents (numbered) for every table and view of ``schema`` in the database at ``url``."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError) as exc:
        raise InvalidInput(
            f"{url.split('@')[-1]!r} is not a usable SQLAlchemy URL ({exc}); e.g. sqlite:///warehouse.db "
            "or postgresql://user@host/db (its driver must be installed)"
        ) from exc
    shown = engine.url.render_as_string(hide_password=True)
    if engine.url.get_backend_name() == "sqlite":
        db = engine.url.database or ""
        # SQLite would silently create a missing file and report an empty database.
        if db and db != ":memory:" and not Path(db).is_file():
            raise EngineUnavailable(f"database {shown} does not exist; check the path")
    try:
        inspector = inspect(engine)
        names = [(t, "table") for t in inspector.get_table_names(schema=schema)]
        names += [(v, "view") for v in inspector.get_view_names(schema=schema)]
        if len(names) > _MAX_TABLES:
            raise InvalidInput(f"{shown} has {len(names)} tables; import one --schema at a time")
        docs = [
            (i, _document(inspector, shown, schema, table, kind))
            for i, (table, kind) in enumerate(sorted(names), start=1)
        ]
    except SQLAlchemyError as exc:
        raise EngineUnavailable(
            f"cannot read database {shown}: {type(exc).__name__}: {str(exc).splitlines()[0]}; check the URL, "
            "that the server is up and that the user may read its catalog"
        ) from exc
    finally:
        engine.dispose()
    if not docs:
        where = f"schema {schema!r}" if schema else "the default schema"
        raise InvalidInput(f"{shown} has no tables or views in {where}; pass --schema")
    return docs


def _document(inspector: Any, url: str, schema: str | None, table: str, kind: str) -> dict[str, Any]:
    try:
        comment = (inspector.get_table_comment(table, schema=schema) or {}).get("text") or ""
    except NotImplementedError:
        comment = ""  # SQLite has no table comments
    columns = [
        {
            "name": str(c["name"]),
            "type": str(c["type"]),
            "description": str(c.get("comment") or ""),
            "sensitive": looks_sensitive(str(c["name"])),
        }
        for c in inspector.get_columns(table, schema=schema)
    ]
    return {
        "kind": "table",
        "name": f"{schema}.{table}" if schema else table,
        "title": table,
        "description": comment,
        "tags": ["sql", kind],
        "source": f"{url}#{f'{schema}.' if schema else ''}{table}",
        "columns": columns,
        "attributes": {"database_url": url, "schema": schema or "", "relation": kind},
    }
