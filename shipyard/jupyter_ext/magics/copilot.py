"""``%copilot QUESTION``: a cited answer from the catalog, shown as Markdown in JupyterLab."""

from __future__ import annotations

from typing import Any

from shipyard.errors import InvalidInput


class CopilotAnswer:
    """An answer with numbered citations; Markdown in Jupyter (catalog text escaped), plain text elsewhere."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result

    def _repr_markdown_(self) -> str:
        import html

        body = html.escape(self.result["answer"]).replace("\n", "  \n")
        cites = [
            f"{i}. `{c['kind']}` **{html.escape(c['name'])}**"
            + (f" (column {html.escape(c['column'])})" if c.get("column") else "")
            + f" — score {c['score']}"
            for i, c in enumerate(self.result["citations"], start=1)
        ]
        return body + ("\n\n**Sources**\n\n" + "\n".join(cites) if cites else "")

    def __repr__(self) -> str:
        lines = [self.result["answer"], ""]
        lines += [
            f"[{i}] {c['kind']} {c['name']}" + (f" [{c['column']}]" if c.get("column") else "")
            for i, c in enumerate(self.result["citations"], start=1)
        ]
        return "\n".join(lines)


def register(ipython: Any, session: Any) -> None:
    """Register the ``%copilot`` line magic on ``ipython``."""

    def copilot(line: str) -> CopilotAnswer:
        from shipyard.copilot.service import copilot_for

        if not line.strip():
            raise InvalidInput(
                "%copilot needs a question, e.g. %copilot where is the cleaned transaction history?"
            )
        return CopilotAnswer(copilot_for(session.workspace).ask(line).to_dict())

    ipython.register_magic_function(copilot, "line", "copilot")
