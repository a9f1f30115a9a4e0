"""Answer values and the extractive composer: which asset, owner, freshness, lineage, one line to load it.

Everything in an answer comes from retrieved payloads and catalog lineage; catalog text is quoted as data
and never interpreted. Values of masked columns (samples, statistics) never appear: the service removes
them per caller from governance grants (``copilot.visibility``) and this module shows none of them either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.copilot import lexical
from shipyard.copilot.documents import VALUE_KEYS
from shipyard.copilot.search import Ranked

SNIPPET_CHARS = 200
DETAILED = 3


@dataclass(frozen=True)
class Citation:
    """An asset the answer rests on (``column`` names the matching column of a table, if any)."""

    kind: str
    name: str
    column: str | None
    score: float
    snippet: str
    project: str = ""


@dataclass
class Answer:
    """The copilot answer contract (DESIGN.md): text, citations best first, timings; flags when raised."""

    answer: str
    citations: list[Citation]
    timings_ms: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape every surface returns."""
        out: dict[str, Any] = {
            "answer": self.answer,
            "citations": [
                {"kind": c.kind, "name": c.name, "column": c.column, "score": c.score, "snippet": c.snippet}
                for c in self.citations
            ],
            "timings_ms": self.timings_ms,
        }
        if self.flags:
            out["flags"] = list(self.flags)
        return out


def snippet(payload: dict[str, Any]) -> str:
    """The first ``SNIPPET_CHARS`` characters of the description (or the title)."""
    text = " ".join(str(payload.get("description") or payload.get("title") or "").split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def best_column(payload: dict[str, Any], question: str) -> str | None:
    """The column of a table whose name and description share the most words with the question."""
    if payload.get("kind") == "column":
        return str(payload.get("name", "")).rsplit(".", 1)[-1] or None
    words = set(lexical.tokens(question))
    best, best_hits = None, 0
    for col in payload.get("columns", []):
        hits = len(words & set(lexical.tokens(f"{col.get('name', '')} {col.get('description', '')}")))
        if hits > best_hits:
            best, best_hits = str(col.get("name")), hits
    return best


def to_citations(ranked: list[Ranked], question: str) -> list[Citation]:
    """Citations for retrieved points, best first."""
    return [
        Citation(
            kind=str(r.payload.get("kind")),
            name=str(r.payload.get("name")),
            column=best_column(r.payload, question),
            score=r.score,
            snippet=snippet(r.payload),
            project=str(r.payload.get("project", "")),
        )
        for r in ranked
    ]


def load_line(payload: dict[str, Any]) -> str:
    """One line of Python that loads the asset, or "" when there is no known way."""
    kind, name, source = payload.get("kind"), str(payload.get("name")), str(payload.get("source") or "")
    if kind == "feature":
        return f"shipyard.features.online_features([{{...entity keys...}}], [{name!r}])  # or %feature get {name}"
    if kind == "feature_view":
        return f"shipyard.features.training_frame(entity_df, [{name + ':<feature>'!r}])"
    if kind in ("table", "dataset", "column"):
        table_source = _reader(source)
        if not table_source:
            return ""
        return table_source + (f"[{name.rsplit('.', 1)[-1]!r}]" if kind == "column" else "")
    if kind == "model":
        return f"mlflow.pyfunc.load_model('models:/{name}@champion')"
    if kind == "model_version":
        model, _, version = name.rpartition("/") if "/" in name else name.rpartition(":")
        return f"mlflow.pyfunc.load_model('models:/{model or name}/{version}')" if version else ""
    if kind == "run":
        return f"mlflow.get_run({name!r})"
    return ""


def _reader(source: str) -> str:
    low = source.lower()
    if not source:
        return ""
    if low.endswith(".csv"):
        return f"pd.read_csv({source!r})"
    if low.endswith((".parquet", ".pq")) or low.startswith(("s3://", "gs://", "file://", "/", "data/")):
        return f"pd.read_parquet({source!r})"
    if "://" in source and "." in source.rsplit("/", 1)[-1]:
        url, _, table = source.rpartition("/")
        return f"pd.read_sql_table({table!r}, {url!r})"
    return f"pd.read_parquet({source!r})"


def describe_columns(payload: dict[str, Any], column: str | None) -> str:
    """The columns line: matching column first; masked ones (no grant) named, never their values."""
    cols = list(payload.get("columns", []))
    cols.sort(key=lambda c: c.get("name") != column)
    parts = []
    for col in cols[:8]:
        text = f"{col.get('name')} ({col.get('type') or '?'})"
        masked = bool(col.get("masked", col.get("sensitive")))
        if masked:
            text += " [masked]"
        elif col.get("sensitive"):
            text += " [sensitive, granted]"
        if col.get("description"):
            text += f": {' '.join(str(col['description']).split())[:120]}"
        values = {k: col[k] for k in VALUE_KEYS if k in col}
        if values and not masked:
            text += f" {values}"
        parts.append(text)
    more = f" (+{len(cols) - 8} more)" if len(cols) > 8 else ""
    return "; ".join(parts) + more


def compose(
    question: str,
    ranked: list[Ranked],
    citations: list[Citation],
    lineage: dict[str, list[str]],
    freshness: dict[str, datetime | None],
) -> str:
    """The extractive answer: the best assets in detail, the rest by name."""
    if not ranked:
        return (
            "I found no catalog asset that matches this question in the projects you can read. "
            "Try other words (a table, column or feature name) or `shipyard catalog search`."
        )
    lines = []
    for i, (r, c) in enumerate(zip(ranked, citations, strict=True)):
        p = r.payload
        label = f"{c.kind} `{c.name}`" + (
            f" (column `{c.column}`)" if c.column and c.kind != "column" else ""
        )
        if i >= DETAILED:
            lines.append(f"- also: {label}")
            continue
        title = f" — {p['title']}" if p.get("title") else ""
        lines.append(f"{'Best match' if i == 0 else 'Also relevant'}: {label} in project {c.project}{title}")
        if c.snippet:
            lines.append(f'  Description (from the catalog): "{c.snippet}"')
        facts = [f"owner: {p.get('owner') or 'unknown'}"]
        fresh = freshness.get(r.point_id)
        if fresh is not None:
            facts.append(f"freshness: {fresh.isoformat(timespec='minutes')}")
        lines.append("  " + " · ".join(facts))
        if p.get("kind") == "column":
            masked = bool(p.get("masked", p.get("sensitive")))
            lines.append(f"  Column of table {p.get('table')}" + (" [masked]" if masked else ""))
            if p.get("values") and not masked:
                lines.append(f"  Values: {p['values']}")
        if p.get("columns"):
            lines.append("  Columns: " + describe_columns(p, c.column))
        edges = lineage.get(r.point_id) or []
        if edges:
            lines.append("  Lineage: " + "; ".join(edges[:6]))
        code = load_line(p)
        if code:
            lines.append(f"  Load: {code}")
    return "\n".join(lines)
