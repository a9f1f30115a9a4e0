"""Which column values a caller may see in an answer, decided by governance grants and mask policies.

Sensitive columns (flagged in the catalog or covered by a tag's mask policy) stay named in answers; their
sample values and statistics are removed from the retrieved payloads before any answer (extractive or
LLM) is written, unless the caller holds a grant for them. Grants and mask policies come from governance
(``shipyard.governance.access`` / ``masking``); the copilot keeps no rules of its own about who may see.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shipyard.copilot.documents import VALUE_KEYS
from shipyard.copilot.search import Ranked

if TYPE_CHECKING:
    from shipyard.workspace import Workspace


class Visibility:
    """One caller's view of column values across the projects of one question (governance read once each).

    A column is sensitive when its catalog entry is flagged or its asset carries a tag with a mask policy
    (the rules of ``shipyard.governance.masking``); its values are hidden unless the caller holds a grant
    for it, the asset or everything (``AccessService.grants``). Policies and grants are read per project
    (two small queries) rather than through ``masking.sensitive_columns``, which lists the whole project's
    catalog; only a column asset in a project with tag policies needs that (its table's tags are not in
    the column's payload).
    """

    def __init__(self, ws: Workspace, user: str) -> None:
        self._ws = ws
        self.user = user
        self._policies: dict[str, dict[str, str]] = {}
        self._grants: dict[str, set[tuple[str, str]]] = {}

    def _access(self) -> Any:
        from shipyard.governance.access import AccessService

        return AccessService(self._ws.store)

    def _policies_of(self, project: str) -> dict[str, str]:
        if project not in self._policies:
            self._policies[project] = self._access().mask_policies(project)
        return self._policies[project]

    def _granted(self, project: str, asset: str, column: str) -> bool:
        if project not in self._grants:
            self._grants[project] = self._access().grants(self.user, project)
        return bool({(asset, column), (asset, "*"), ("*", "*")} & self._grants[project])

    def hidden(self, project: str, asset: str, column: str, flagged: bool, tags: list[str]) -> bool:
        """Whether the values of ``asset``.``column`` must be withheld from this caller."""
        sensitive = flagged or any(t in self._policies_of(project) for t in tags)
        return sensitive and not self._granted(project, asset, column)

    def _column_asset_hidden(
        self, project: str, table: str, column: str, flagged: bool, tags: list[str]
    ) -> bool:
        if self.hidden(project, table, column, flagged, tags):
            return True
        if not self._policies_of(project):
            return False
        from shipyard.governance.masking import masked_columns

        return column in masked_columns(self._ws, self.user, project, table)

    def redact(self, ranked: list[Ranked]) -> list[Ranked]:
        """Copies of the hits with withheld values removed and their columns marked ``masked``."""
        return [replace(r, payload=self._payload(r.payload)) for r in ranked]

    def _payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        project, name = str(payload.get("project", "")), str(payload.get("name", ""))
        out = dict(payload)
        tags = [str(t) for t in payload.get("tags", [])]
        if payload.get("kind") == "column":
            table = str(payload.get("table") or name.rsplit(".", 1)[0])
            column = name.rsplit(".", 1)[-1]
            flagged = bool(payload.get("sensitive"))
            masked = self._column_asset_hidden(project, table, column, flagged, tags)
            out["masked"] = masked
            out["sensitive"] = bool(payload.get("sensitive")) or masked
            if masked:
                out["values"] = {}
        columns = []
        for col in payload.get("columns", []):
            col_name = str(col.get("name", ""))
            masked = self.hidden(project, name, col_name, bool(col.get("sensitive")), tags)
            kept = {k: v for k, v in col.items() if not (masked and k in VALUE_KEYS)}
            columns.append({**kept, "masked": masked, "sensitive": bool(col.get("sensitive")) or masked})
        out["columns"] = columns
        return out


def local_user() -> str:
    """The caller of the CLI, notebook and Python API: the OS user (as governance's masking uses)."""
    from shipyard.governance.masking import local_user as governance_user

    return governance_user()
