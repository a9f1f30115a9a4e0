"""Copilot retrieval: Shipyard's hybrid pipeline next to naive dense top-k over title + description.

Catalog: the 55 hand-documented assets of ``data/copilot/gold.tsv`` (churn example and a company's usual
tables, features and models; each with one paraphrased question that avoids the asset's name) plus ~350
generated look-alike tables (archives, daily aggregates, other schemas with the same words), all in one
project; tables bring their columns as column assets. Questions with an even line number are the dev half
the pipeline was tuned on, odd ones the held-out half; both are reported.

Naive: the same MiniLM model embeds ``title. description`` of every asset; cosine top-k with numpy.
Latency: the catalog is grown to 10k assets and ``retrieve`` (query embedding + hybrid search) is timed per
question; indexing speed is assets embedded and written to Qdrant local mode per second.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "copilot"
SCALE_ASSETS = 10_000
SCHEMAS = [
    "sales",
    "crm",
    "finance",
    "web",
    "ops",
    "risk",
    "logistics",
    "marketing",
    "product",
    "hr",
    "billing",
    "growth",
    "legal",
    "retail",
    "support",
    "analytics",
    "partner",
    "mobile",
]
ENTITIES = [
    "accounts",
    "events",
    "payments",
    "balances",
    "vendors",
    "contracts",
    "audits",
    "budgets",
    "leads",
    "opportunities",
    "claims",
    "policies",
    "visits",
    "orders",
    "refunds",
    "customers",
    "devices",
    "sessions",
    "invoices",
    "shipments",
    "campaigns",
    "tickets",
    "products",
    "prices",
]
VARIANTS = [
    ("raw", "Raw {e} as loaded from the source system, not deduplicated."),
    ("clean", "Validated {e} with duplicates removed and types fixed."),
    ("daily", "{E} aggregated per day for dashboards."),
    ("monthly", "Monthly rollup of {e} for finance reporting."),
    ("snapshot", "Nightly snapshot of {e} kept for 35 days."),
    ("archive", "{E} before 2020, archived; do not use for new work."),
    ("staging", "Staging copy of {e} used by the loader; overwritten every run."),
]


def gold_documents() -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """The documented assets and (line, question, kind:name) from ``gold.tsv``."""
    docs, questions = [], []
    lines = (DATA / "gold.tsv").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.startswith("#") or not line.strip():
            continue
        kind, name, title, description, owner, columns, question = line.split("\t")
        cols = [
            dict(zip(("name", "type", "description"), c.split(":", 2), strict=True))
            for c in columns.split(";")
            if c
        ]
        docs.append(
            {
                "kind": kind,
                "name": name,
                "title": title,
                "description": description,
                "owner": owner,
                "columns": cols,
                "source": f"data/{name}.parquet",
            }
        )
        questions.append((number, question, f"{kind}:{name}"))
    return docs, questions


def generated_documents(count: int, seed: int = 11, start: int = 0) -> list[dict[str, Any]]:
    """Look-alike documented tables (with two columns each) from schemas x entities x variants."""
    rng = random.Random(seed)
    docs = []
    for i in range(start, start + count):
        schema, entity = rng.choice(SCHEMAS), rng.choice(ENTITIES)
        variant, text = rng.choice(VARIANTS)
        name = f"{schema}.{entity}_{variant}" + (f"_{i}" if i >= 60 else "")
        words = entity.replace("_", " ")
        docs.append(
            {
                "kind": "table",
                "name": name,
                "title": f"{words.title()} ({variant})",
                "description": f"{text.format(e=words, E=words.capitalize())} Owned by the {schema} team.",
                "owner": schema,
                "source": f"warehouse/{schema}/{entity}",
                "columns": [
                    {"name": f"{entity[:-1]}_id", "type": "int", "description": f"{words} key"},
                    {"name": "updated_at", "type": "timestamp", "description": "last change"},
                ],
            }
        )
    return docs


def _unique(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({(d["kind"], d["name"]): d for d in docs}.values())


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "hit_at_1": round(sum(r == 1 for r in ranks) / n, 3),
        "hit_at_5": round(sum(r is not None and r <= 5 for r in ranks) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
    }


def _rank_of(ranked: list[str], gold: str) -> int | None:
    return next((i for i, key in enumerate(ranked, start=1) if key == gold), None)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)


def run() -> dict[str, Any]:
    """Quality (dev, held-out, all) of naive vs Shipyard, retrieval latency at 10k assets, indexing speed."""
    import numpy as np
    import torch

    from shipyard.copilot.embedder import get_embedder
    from shipyard.copilot.service import CopilotService
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    torch.set_num_threads(2)
    gold_docs, questions = gold_documents()
    docs = _unique(gold_docs + generated_documents(350))
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(init_workspace(Path(tmp) / "ws", project="bench").root)
        ws.catalog.register(docs)
        service = CopilotService(ws)
        embedder = get_embedder(service.settings.embedding_model)
        report = service.index()
        print(f"indexed {report.indexed} assets in {report.seconds} s", file=sys.stderr, flush=True)
        assets = ws.catalog.list()
        keys = [f"{a.kind}:{a.name}" for a in assets]
        naive_vectors = embedder.encode([f"{a.title}. {a.description}" for a in assets])

        results: dict[str, dict[str, list[int | None]]] = {"naive": {}, "shipyard": {}}
        for number, question, gold in questions:
            half = "dev" if number % 2 == 0 else "held_out"
            q = embedder.encode([question])[0]
            order = np.argsort(-(naive_vectors @ q))[:10]
            results["naive"].setdefault(half, []).append(_rank_of([keys[i] for i in order], gold))
            ranked, _ = service.retrieve(question, limit=10)
            got = [f"{r.payload['kind']}:{r.payload['name']}" for r in ranked]
            results["shipyard"].setdefault(half, []).append(_rank_of(got, gold))
        quality = {
            system: {half: _metrics(r) for half, r in halves.items()}
            | {"all": _metrics([x for r in halves.values() for x in r])}
            for system, halves in results.items()
        }

        # Scale: grow the project to 10k assets (tables plus their column assets) and time retrieval.
        have = len(assets)
        extra = _unique(generated_documents((SCALE_ASSETS - have) // 3 + 1, seed=23, start=1000))
        ws.catalog.register(extra)
        print(f"quality done; indexing {len(extra)} more tables", file=sys.stderr, flush=True)
        scale_report = service.index()
        total = len(ws.catalog.list())
        latencies, naive_latencies = [], []
        for _, question, _ in questions * 2:
            started = time.perf_counter()
            service.retrieve(question, limit=10)
            latencies.append((time.perf_counter() - started) * 1000)
        big = service.indexer.mirror
        for _, question, _ in questions:
            started = time.perf_counter()
            big.dense_only(embedder.encode([question])[0], ["bench"], 10)
            naive_latencies.append((time.perf_counter() - started) * 1000)
        service.close()
        ws.close()
    return {
        "catalog_assets": have,
        "questions": len(questions),
        "quality": quality,
        "target_hit_at_5": 0.90,
        "indexing": {
            "assets": report.indexed,
            "seconds": report.seconds,
            "assets_per_s": report.assets_per_s,
            "scale_assets": scale_report.indexed,
            "scale_seconds": scale_report.seconds,
            "scale_assets_per_s": scale_report.assets_per_s,
        },
        "latency_at_scale": {
            "assets": total,
            "retrieve_p50_ms": _pct(latencies, 50),
            "retrieve_p95_ms": _pct(latencies, 95),
            "naive_dense_p50_ms": _pct(naive_latencies, 50),
            "naive_dense_p95_ms": _pct(naive_latencies, 95),
        },
        "cpu_threads": torch.get_num_threads(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
