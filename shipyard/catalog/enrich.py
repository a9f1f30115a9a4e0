"""Drafting descriptions for undocumented assets from their name, columns, lineage and sampled statistics.

Drafts are marked ``description_status="draft"`` until a person accepts them. Sensitive columns (flagged in
the catalog, or named like personal data) are never read: the sample query leaves them out, so no value or
statistic of theirs can reach a draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.catalog.records import KINDS, AssetRecord
from shipyard.catalog.sensitivity import looks_sensitive
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.workspace import Workspace

SAMPLE_ROWS = 10_000
_MAX_LISTED_VALUES = 8


@dataclass(frozen=True)
class Draft:
    """A drafted description."""

    kind: str
    name: str
    description: str


@dataclass(frozen=True)
class EnrichResult:
    """Drafts written, and tables whose source could not be sampled (with why)."""

    drafted: list[Draft] = field(default_factory=list)
    unsampled: dict[str, str] = field(default_factory=dict)


def enrich_assets(ws: Workspace, kinds: list[str] | None, project: str) -> EnrichResult:
    """Draft a description for every asset of ``kinds`` in ``project`` that has none."""
    from shipyard.store.models import Asset

    for kind in kinds or []:
        if kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    assets = ws.catalog.list(kinds=kinds, project=project)
    tables = {a.name: a for a in ws.catalog.list(kinds=["table"], project=project)}
    samples: dict[str, dict[str, str]] = {}
    unsampled: dict[str, str] = {}
    drafts: list[Draft] = []
    for asset in assets:
        if asset.description.strip():
            continue
        table = asset if asset.kind == "table" else tables.get(str(asset.attributes.get("table", "")))
        stats: dict[str, str] = {}
        if table is not None and asset.kind in ("table", "column"):
            if table.name not in samples and table.name not in unsampled:
                try:
                    samples[table.name] = column_stats(ws, table)
                except _Unreadable as why:
                    unsampled[table.name] = str(why)
            stats = samples.get(table.name, {})
        drafts.append(Draft(asset.kind, asset.name, draft_description(asset, stats)))
    with ws.store.session() as s:
        for d in drafts:
            row = s.query(Asset).filter_by(project=project, kind=d.kind, name=d.name).one()
            row.description, row.description_status = d.description, "draft"
    return EnrichResult(drafts, unsampled)


def draft_description(asset: AssetRecord, stats: dict[str, str]) -> str:
    """A plain-English description from what the catalog and a sample say about ``asset``."""
    words = _words(asset.name.rsplit(".", 1)[-1].split(":")[-1])
    if asset.kind == "table":
        parts = [f"{words.capitalize()} table ({asset.name})"]
        if "__rows__" in stats:
            parts.append(f"with {stats['__rows__']} rows")
        text = " ".join(parts) + "."
        if asset.columns:
            cols = ", ".join(
                f"{c['name']}{' (sensitive)' if _is_sensitive(c) else ''}" for c in asset.columns[:20]
            )
            more = f" and {len(asset.columns) - 20} more" if len(asset.columns) > 20 else ""
            text += f" Columns: {cols}{more}."
        for c in asset.columns[:20]:
            if c["name"] in stats:
                text += f" {c['name']}: {stats[c['name']]}."
        return text
    if asset.kind == "column":
        table = str(asset.attributes.get("table", ""))
        typ = str(asset.attributes.get("type", "")) or "unknown type"
        text = f"{words.capitalize()} ({typ}) column of table {table}."
        if asset.attributes.get("sensitive") or looks_sensitive(asset.title or asset.name):
            return text + " Sensitive: values are not sampled."
        stat = stats.get(asset.title or asset.name.rsplit(".", 1)[-1])
        return text + (f" {stat}." if stat else "")
    lineage = asset.attributes.get("lineage") or []
    upstream = ", ".join(f"{e.get('kind')} {e.get('name')}" for e in lineage[:5] if isinstance(e, dict))
    text = f"{asset.kind.replace('_', ' ').capitalize()} {asset.name}: {words}."
    return text + (f" Related to {upstream}." if upstream else "")


def _words(name: str) -> str:
    return " ".join(p for p in name.replace("-", "_").split("_") if p) or name


def _is_sensitive(col: dict[str, Any]) -> bool:
    return bool(col.get("sensitive")) or looks_sensitive(str(col.get("name", "")))


class _Unreadable(Exception):  # noqa: N818 - reported per table, not raised to the caller
    pass


def column_stats(ws: Workspace, table: AssetRecord) -> dict[str, str]:
    """Per-column summaries of a sample of ``table``'s source, sensitive columns left unread."""
    frame, rows = _sample(ws, table)
    stats = {name: _summary(frame[name]) for name in frame.columns}
    if rows is not None:
        stats["__rows__"] = f"{rows:,}"
    return stats


def _sample(ws: Workspace, table: AssetRecord) -> tuple[pd.DataFrame, int | None]:
    source = table.source
    declared = {str(c["name"]) for c in table.columns}
    hidden = {str(c["name"]) for c in table.columns if _is_sensitive(c)}
    if "#" in source and "://" in source:
        return _sample_sql(source, declared, hidden), None
    if not source or "://" in source:
        raise _Unreadable("no readable source (a local Parquet or CSV file, or a SQL URL#table)")
    path = Path(source) if Path(source).is_absolute() else ws.root / source
    if not path.is_file():
        raise _Unreadable(f"source {path} does not exist")
    if path.suffix.lower() == ".parquet":
        import pandas as pd
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path)
        names = [n for n in meta.schema_arrow.names if _readable(n, declared, hidden)]
        batch = next(meta.iter_batches(batch_size=SAMPLE_ROWS, columns=names), None)
        frame = batch.to_pandas() if batch is not None else pd.DataFrame(columns=names)
        return frame, meta.metadata.num_rows
    if path.suffix.lower() == ".csv":
        import pandas as pd

        header = pd.read_csv(path, nrows=0).columns
        names = [n for n in header if _readable(str(n), declared, hidden)]
        return pd.read_csv(path, usecols=names, nrows=SAMPLE_ROWS), None
    raise _Unreadable(f"source {path.name}: only .parquet and .csv files are sampled")


def _readable(name: str, declared: set[str], hidden: set[str]) -> bool:
    return name not in hidden and not looks_sensitive(name) and (not declared or name in declared)


def _sample_sql(source: str, declared: set[str], hidden: set[str]) -> pd.DataFrame:
    import pandas as pd
    from sqlalchemy import MetaData, Table, create_engine, select
    from sqlalchemy.exc import SQLAlchemyError

    url, _, qualified = source.rpartition("#")
    schema, _, name = qualified.rpartition(".")
    engine = create_engine(url)
    try:
        table = Table(name, MetaData(), schema=schema or None, autoload_with=engine)
        cols = [c for c in table.columns if _readable(c.name, declared, hidden)]
        with engine.connect() as conn:
            return pd.read_sql(select(*cols).limit(SAMPLE_ROWS), conn)
    except SQLAlchemyError as exc:
        raise _Unreadable(f"cannot read {qualified}: {type(exc).__name__}") from exc
    finally:
        engine.dispose()


def _summary(series: pd.Series) -> str:
    import pandas as pd

    n = len(series)
    if n == 0:
        return "no rows sampled"
    nulls = int(series.isna().sum())
    null_text = f"; {nulls / n:.0%} missing" if nulls else ""
    values = series.dropna()
    if values.empty:
        return "always missing in the sample"
    if pd.api.types.is_bool_dtype(values):
        return f"true in {values.mean():.0%} of rows{null_text}"
    if pd.api.types.is_integer_dtype(values):
        return f"ranges {values.min():,} to {values.max():,}, mean {values.mean():,.4g}{null_text}"
    if pd.api.types.is_numeric_dtype(values):
        return f"ranges {values.min():.4g} to {values.max():.4g}, mean {values.mean():.4g}{null_text}"
    if pd.api.types.is_datetime64_any_dtype(values):
        return f"from {values.min():%Y-%m-%d} to {values.max():%Y-%m-%d}{null_text}"
    distinct = values.astype(str).value_counts()
    if len(distinct) <= _MAX_LISTED_VALUES:
        return f"values {', '.join(distinct.index)}{null_text}"
    # High-cardinality text may be free text or identifiers: count it, never quote it.
    return f"{len(distinct):,} distinct values in {n:,} sampled rows{null_text}"
