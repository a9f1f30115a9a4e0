"""The one validator for user-supplied names and paths: normalise once, then refuse anything ambiguous.

Paths: NFKC look-alikes, NUL and control characters, percent-encoding (single or double), backslashes,
``#``/``?`` smuggling, URL schemes (``file://``), absolute and drive paths, ``~``, ``..`` segments and
symlinks resolving outside the root are all refused with a message naming the field.
Identifiers (features, views, steps, parameters, users, projects) match a strict pattern.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from shipyard.errors import InvalidInput

PATTERNS: dict[str, re.Pattern[str]] = {
    # Python/Feast identifiers: safe as SQL column names, Python names and papermill parameters.
    "feature": re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}"),
    "view": re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}"),
    "parameter": re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}"),
    "step": re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,99}"),
    # Resource names: may hold dots and dashes but never a path separator or "..".
    "name": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"),
    "user": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,199}"),
    "project": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _plain(value: str, field: str) -> str:
    """Refuse NUL/control characters and NFKC look-alikes (fullwidth dots and slashes, ligatures)."""
    if _CONTROL.search(value):
        raise InvalidInput(f"{field}: {value!r} contains a NUL or control character; remove it")
    if unicodedata.normalize("NFKC", value) != value:
        raise InvalidInput(
            f"{field}: {value!r} contains look-alike (non-NFKC) characters; type it with plain characters"
        )
    return value


def identifier(value: str, field: str, *, kind: str = "feature") -> str:
    """``value`` if it matches the strict ``kind`` pattern, else ``InvalidInput`` naming ``field``."""
    pattern = PATTERNS[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value) or ".." in value:
        raise InvalidInput(
            f"{field}: {value!r} is not a valid {kind} name; use letters, digits and '_' "
            f"(pattern {pattern.pattern})"
        )
    return value


def feature_ref(value: str, field: str = "features") -> str:
    """A ``view:feature`` reference whose both halves are identifiers."""
    view, sep, feature = value.partition(":")
    if not sep:
        raise InvalidInput(f"{field}: {value!r} is not a 'view:feature' reference")
    identifier(view, field, kind="view")
    identifier(feature, field, kind="feature")
    return value


def relative_path(value: str, field: str) -> str:
    """Check a workspace-relative path lexically and return it (forward slashes, no ``.`` segments)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field}: a path is required")
    _plain(value, field)
    if unquote(value) != value:
        raise InvalidInput(f"{field}: {value!r} is percent-encoded; send the plain path")
    if "\\" in value:
        raise InvalidInput(f"{field}: {value!r} contains a backslash; use '/' between folders")
    if "#" in value or "?" in value:
        raise InvalidInput(f"{field}: {value!r} contains '#' or '?'; send a plain path, not a URL")
    if _SCHEME.match(value) or "://" in value:
        raise InvalidInput(f"{field}: {value!r} is a URL or drive path; use a path relative to the workspace")
    if value.startswith(("/", "~")):
        raise InvalidInput(
            f"{field}: {value!r} is absolute (outside the workspace); use a path relative to the workspace"
        )
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(
            f"{field}: {value!r} climbs out with '..', outside the workspace; use a path inside it"
        )
    if not parts:
        raise InvalidInput(f"{field}: {value!r} names no file")
    return "/".join(parts)


def safe_path(root: Path, value: str, field: str) -> Path:
    """Resolve ``value`` under ``root`` after the lexical checks; a symlink leading outside is refused."""
    clean = relative_path(value, field)
    base = root.resolve()
    candidate = (base / clean).resolve()
    if candidate != base and base not in candidate.parents:
        raise InvalidInput(f"{field}: {value!r} resolves outside the workspace (a symlink?); refused")
    return candidate
