"""``shipyard copilot``: ask the catalog questions (one, or a batch), (re)build the index, evaluate retrieval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, log, to_jsonable

app = typer.Typer(
    help="Grounded answers about tables, columns, features, models and runs.", no_args_is_help=True
)

ProjectOpt = Annotated[
    list[str] | None,
    typer.Option("--project", "-p", help="Search these projects (repeat; default: the workspace's)."),
]


def render_answer(result: dict[str, Any]) -> str:
    """The answer, then its citations and timings, for people."""
    lines = [result["answer"], ""]
    for i, c in enumerate(result["citations"], start=1):
        col = f" [{c['column']}]" if c.get("column") else ""
        lines.append(f"[{i}] {c['kind']} {c['name']}{col}  score={c['score']}")
    for flag in result.get("flags", []):
        lines.append(f"flag: {flag}")
    lines.append("timings (ms): " + ", ".join(f"{k}={v}" for k, v in result["timings_ms"].items()))
    return "\n".join(lines)


def _service(workspace: Path | None) -> Any:
    from shipyard.copilot.service import copilot_for
    from shipyard.workspace import Workspace

    return copilot_for(Workspace.open(workspace))


@app.command("ask")
def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in words.")] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="File with one question a line; prints JSON Lines in the same order."),
    ] = None,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question (or each line of --batch) from the catalog, with citations."""
    from shipyard.errors import InvalidInput

    with handled(as_json or batch is not None):
        if (question is None) == (batch is None):
            raise InvalidInput("pass a QUESTION or --batch FILE (one of them)")
        service = _service(workspace)
        if batch is None:
            result = service.ask(question or "", project).to_dict()
            emit(result, as_json, render_answer)
            return
        if not batch.is_file():
            raise InvalidInput(f"--batch {batch}: no such file; pass a text file with one question a line")
        questions = [q for q in batch.read_text(encoding="utf-8").splitlines() if q.strip()]
        failed = False
        for q in questions:
            try:
                out = service.ask(q, project).to_dict()
            except InvalidInput as exc:
                # One bad line must not lose the others' answers: its line carries the error envelope.
                out, failed = exc.to_dict(), True
            typer.echo(json.dumps(to_jsonable(out)))
        if failed:
            raise typer.Exit(2)


@app.command("index")
def index(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the index and embed every asset again.")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bring the copilot index up to date with the catalog (changed and removed assets only)."""
    with handled(as_json):
        report = _service(workspace).index(rebuild=rebuild)
        result = {**to_jsonable(report), "assets_per_s": report.assets_per_s}
        emit(
            result,
            as_json,
            lambda r: (
                f"indexed {r['indexed']}, unchanged {r['unchanged']}, removed {r['removed']}; "
                f"{r['total']} assets in the index ({r['seconds']} s, {r['assets_per_s']} assets/s)"
            ),
        )


@app.command("eval")
def evaluate(
    questions: Annotated[Path, typer.Argument(help="TSV: question<TAB>kind:name|kind:name per line.")],
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrieval quality on your own questions: hit@1, hit@5, MRR and latency p50/p95."""
    with handled(as_json):
        report = _service(workspace).evaluate(questions, project)
        log(f"{len(report.misses)} question(s) without a gold asset in the top 10")
        emit(
            report,
            as_json,
            lambda r: (
                f"questions {r.questions}  hit@1 {r.hit_at_1:.3f}  hit@5 {r.hit_at_5:.3f}  "
                f"MRR {r.mrr:.3f}  latency p50 {r.p50_ms} ms  p95 {r.p95_ms} ms"
            ),
        )
