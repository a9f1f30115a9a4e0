"""Copilot retrieval: Shipyard's hybrid pipeline next to naive dense top-k over title + description.

Catalog: the 55 hand-documented assets of ``data/copilot/gold.tsv`` (churn example and a company's usual
tables, features and models; each with one paraphrased question that avoids the asset's name) plus ~350
generated look-alike tables (archives, daily aggregates, other schemas with the same words), all in one
project; tables bring their columns as column assets. Questions with an even line number are the dev half
the pipeline was tuned on, odd ones the held-out half; both are reported.

Naive: the same MiniLM model embeds ``title. description`` of every asset; cosine top-k with numpy.
Quality is reported per embedding backend: ``torch`` (sentence-transformers, the reference), ``onnx`` (the
default: the same model on onnxruntime) and ``onnx-int8`` (quantised, optional).
Latency: a 10k-asset catalog is indexed (assets embedded and written to Qdrant local mode per second) and
``retrieve`` (catalog change check + query embedding + hybrid search) is timed 220 times per backend,
interleaved question by question so machine load falls on every backend alike; the raw library path
(sentence-transformers + numpy cosine, no lexical signal) is timed alongside, and so are the change
check's old form (two change queries) and new one (one generation read). Indexing reports seconds per
phase (read, embed, store; store overlaps embed) and a serial vs pipelined re-index of a 2k-asset
catalog, interleaved round by round.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
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


def _quality(
    backend: str, docs: list[dict[str, Any]], questions: list[tuple[int, str, str]]
) -> dict[str, Any]:
    """Naive dense and Shipyard hit@1/hit@5/MRR (dev, held-out, all) with one embedding backend."""
    import numpy as np

    from shipyard.copilot.embedder import get_embedder
    from shipyard.copilot.service import CopilotService
    from shipyard.copilot.settings import CopilotSettings
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(init_workspace(Path(tmp) / "ws", project="bench").root)
        ws.catalog.register(docs)
        service = CopilotService(ws, CopilotSettings(embedding_backend=backend))  # type: ignore[arg-type]
        embedder = get_embedder(service.settings.embedding_model, backend)
        report = service.index()
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
        service.close()
        ws.close()
    out: dict[str, Any] = {
        system: {half: _metrics(r) for half, r in sorted(halves.items())}
        | {"all": _metrics([x for r in halves.values() for x in r])}
        for system, halves in results.items()
    }
    out["assets"] = len(assets)
    out["index_assets_per_s"] = report.assets_per_s
    return out


def _embedding_rates(texts: list[str], embedders: dict[str, Any], rounds: int = 3) -> dict[str, float]:
    """Documents embedded per second by each backend, interleaved in rounds so load hits all alike."""
    spent = dict.fromkeys(embedders, 0.0)
    for _ in range(rounds):
        for name, embedder in embedders.items():
            started = time.perf_counter()
            embedder.encode(texts)
            spent[name] += time.perf_counter() - started
    return {name: round(rounds * len(texts) / s, 1) for name, s in spent.items()}


def run() -> dict[str, Any]:
    """Quality per backend, retrieval latency at 10k assets (interleaved per backend), indexing speed."""
    import torch

    from shipyard.copilot.embedder import get_embedder
    from shipyard.copilot.service import CopilotService
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    torch.set_num_threads(2)
    gold_docs, questions = gold_documents()
    docs = _unique(gold_docs + generated_documents(350))
    # torch is the reference (sentence-transformers); onnx is the default ("auto"); int8 is optional.
    quality = {backend: _quality(backend, docs, questions) for backend in ("onnx", "torch", "onnx-int8")}
    print("quality done", file=sys.stderr, flush=True)
    embedders = {b: get_embedder(backend=b) for b in ("onnx", "torch", "onnx-int8")}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(init_workspace(Path(tmp) / "ws", project="bench").root)
        # Scale: tables plus their column assets, indexed by the default (auto -> onnx) pipeline.
        extra = _unique(docs + generated_documents(SCALE_ASSETS // 3 - len(docs) + 1, seed=23, start=1000))
        ws.catalog.register(extra)
        service = CopilotService(ws)
        scale_report = service.index()
        print(f"indexed {scale_report.indexed} in {scale_report.seconds} s", file=sys.stderr, flush=True)
        indexer = service.indexer
        sample = [d.dense_text for d in _documents(ws)[:640]]
        rates = _embedding_rates(sample, embedders)
        default = indexer.embedder
        latencies: dict[str, list[float]] = {b: [] for b in embedders}
        parts: dict[str, list[float]] = {"refresh_ms": [], "embed_ms": [], "search_ms": []}
        naive: list[float] = []
        # Change check before (the two change queries every ask ran) and after (one generation read).
        checks: dict[str, list[float]] = {"queries": [], "generation": []}
        since = datetime.now(UTC) - timedelta(seconds=1)
        for _, question, _ in questions * 4:
            started = time.perf_counter()
            ws.catalog.list_changed(since), ws.catalog.removed_since(since)
            checks["queries"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            ws.catalog.generation()
            checks["generation"].append((time.perf_counter() - started) * 1000)
            for backend, embedder in embedders.items():
                indexer.embedder = embedder
                started = time.perf_counter()
                _, timings = service.retrieve(question, limit=10)
                latencies[backend].append((time.perf_counter() - started) * 1000)
                if backend == "onnx":
                    for key in parts:
                        parts[key].append(timings[key])
            started = time.perf_counter()
            indexer.mirror.dense_only(embedders["torch"].encode([question])[0], ["bench"], 10)
            naive.append((time.perf_counter() - started) * 1000)
        indexer.embedder = default
        total = len(indexer.mirror)
        service.close()
        ws.close()
    pipelining = _pipelining_ab(docs)
    return {
        "questions": len(questions),
        "quality_by_backend": quality,
        "target_hit_at_5": 0.90,
        "indexing": {
            "assets": scale_report.indexed,
            "seconds": scale_report.seconds,
            "assets_per_s": scale_report.assets_per_s,
            "phases_s": scale_report.phases,
            "read_assets_per_s": _rate(scale_report.indexed, scale_report.phases.get("read")),
            "embed_assets_per_s": _rate(scale_report.indexed, scale_report.phases.get("embed")),
            "store_assets_per_s": _rate(scale_report.indexed, scale_report.phases.get("store")),
            "serial_vs_pipelined_assets_per_s": pipelining,
            "embedding_docs_per_s": rates,
            "target_assets_per_s": 200,
        },
        "change_check": {
            "samples": len(checks["queries"]),
            **{f"{k}_p50_ms": _pct(v, 50) for k, v in checks.items()},
            **{f"{k}_p95_ms": _pct(v, 95) for k, v in checks.items()},
        },
        "latency_at_scale": {
            "assets": total,
            "samples_per_backend": len(naive),
            **{f"retrieve_{b}_p50_ms": _pct(v, 50) for b, v in latencies.items()},
            **{f"retrieve_{b}_p95_ms": _pct(v, 95) for b, v in latencies.items()},
            **{f"onnx_{k[:-3]}_p95_ms": _pct(v, 95) for k, v in parts.items()},
            "raw_st_numpy_dense_p50_ms": _pct(naive, 50),
            "raw_st_numpy_dense_p95_ms": _pct(naive, 95),
            "target_p95_ms": 50,
        },
        "load_average": list(__import__("os").getloadavg()),
        "cpu_threads": torch.get_num_threads(),
    }


def _rate(count: int, seconds: float | None) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def _pipelining_ab(docs: list[dict[str, Any]], assets: int = 2000, rounds: int = 2) -> dict[str, float]:
    """Full re-index of a smaller catalog, serial vs embed/store pipelined, interleaved round by round."""
    from shipyard.copilot import indexer as indexing
    from shipyard.copilot.service import CopilotService
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    spent = {"serial": 0.0, "pipelined": 0.0}
    indexed = 0
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(init_workspace(Path(tmp) / "ws", project="bench").root)
        ws.catalog.register(_unique(docs + generated_documents(assets // 3, seed=31, start=1000)))
        service = CopilotService(ws)
        try:
            for _ in range(rounds):
                for mode in spent:
                    indexing.PIPELINE = mode == "pipelined"
                    report = service.index(rebuild=True)
                    spent[mode] += report.seconds
                    indexed = report.indexed
        finally:
            indexing.PIPELINE = True
            service.close()
            ws.close()
    return {mode: round(rounds * indexed / s, 1) for mode, s in spent.items()} | {"assets": indexed}


def _documents(ws: Any) -> list[Any]:
    from shipyard.copilot.documents import to_document

    return [to_document(a) for a in ws.catalog.list()]


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
