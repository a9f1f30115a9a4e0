"""Errors a user can act on.

Every failure that reaches a surface is a ``ShipyardError`` subclass. Surfaces map the class to an HTTP
status (``http_status``) or a CLI exit code (``exit_code``) in one place, so the mapping cannot drift.
"""

from __future__ import annotations

from typing import Any


class ShipyardError(Exception):
    """Base class: a message that says what was wrong, where, and what to do."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        """The error envelope body shared by REST and ``--json`` CLI output."""
        return {"error": {"code": self.code, "message": self.message, "detail": self.detail}}


class InvalidInput(ShipyardError):
    """The caller's input is wrong; the message names the field, cell or path."""

    code = "invalid_input"
    http_status = 422
    exit_code = 2


class NotFound(ShipyardError):
    """A named thing (deployment, model, workspace, pipeline) does not exist."""

    code = "not_found"
    http_status = 404
    exit_code = 2


class Conflict(ShipyardError):
    """The action conflicts with current state (already exists, concurrent change)."""

    code = "conflict"
    http_status = 409
    exit_code = 1


class Unauthorized(ShipyardError):
    """No valid credentials were presented."""

    code = "unauthorized"
    http_status = 401
    exit_code = 2


class Forbidden(ShipyardError):
    """Credentials are valid but do not allow this action."""

    code = "forbidden"
    http_status = 403
    exit_code = 2


class EngineUnavailable(ShipyardError):
    """An engine (Triton, Feast, MLflow, Dagster) could not be started or reached."""

    code = "engine_unavailable"
    http_status = 503
    exit_code = 1


class OperationFailed(ShipyardError):
    """An operation ran and failed (a pipeline step, a parity check, a deploy stage)."""

    code = "operation_failed"
    http_status = 500
    exit_code = 1
