"""Metadata store: SQLAlchemy 2 on SQLite (WAL) by default, PostgreSQL by URL; Alembic migrations."""
