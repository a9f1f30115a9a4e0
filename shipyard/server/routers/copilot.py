"""``/api/v1/copilot/ask``: a cited answer as JSON, or a ``text/event-stream`` of tokens then the answer.

Stream events: ``event: token`` with ``{"text": ...}`` while the answer is written, then one
``event: answer`` whose data is the full answer JSON (DESIGN.md's copilot contract). Errors found before
streaming starts (empty question, projects the caller may not read) use the ordinary error envelope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from shipyard.errors import Forbidden, ShipyardError
from shipyard.server.auth import current_principal, get_workspace
from shipyard.workspace import Workspace

router = APIRouter(tags=["copilot"])


class AskRequest(BaseModel):
    question: str = Field(description="the question, in words (longer than the configured limit: truncated)")
    projects: list[str] | None = Field(None, description="projects to search; default: the workspace's")
    stream: bool = Field(False, description="true: text/event-stream of token events, then the answer")
    context: str = Field("", max_length=20_000, description="e.g. the current notebook cell, to focus search")


def readable_projects(request: Request, ws: Workspace, asked: list[str] | None) -> list[str]:
    """The asked projects if the caller may ask in every one of them (one authorization function decides)."""
    from shipyard.governance.roles import authorize

    chosen = [p for p in (asked or []) if p] or [ws.project]
    principal = current_principal(request)
    denied = []
    for project in chosen:
        try:
            authorize(principal, "copilot.ask", project)
        except Forbidden:
            denied.append(project)
    if denied:
        raise Forbidden(f"you may not read project(s) {', '.join(denied)}; ask their admin for a role")
    return chosen


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.post("/copilot/ask", response_model=None)
def ask(body: AskRequest, request: Request, ws: Workspace = Depends(get_workspace)) -> Any:
    """Answer ``question`` from the catalog of the caller's projects, with citations."""
    from shipyard.copilot.service import copilot_for

    service = copilot_for(ws)
    projects = readable_projects(request, ws, body.projects)
    # Masked column values follow the caller's own grants (governance), never the server process's user.
    user = current_principal(request).name
    if not body.stream:
        return service.ask(body.question, projects, user=user, context=body.context).to_dict()
    service.check_question(body.question)  # bad input answers 422 before the stream starts

    def events() -> Iterator[str]:
        try:
            for event, value in service.stream(body.question, projects, user=user, context=body.context):
                yield _sse("token", {"text": value}) if event == "token" else _sse("answer", value.to_dict())
        except ShipyardError as exc:
            yield _sse("error", exc.to_dict())

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
