"""The one validator: every refused path/name form is a case, and good forms pass unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.governance.inputs import feature_ref, identifier, relative_path, safe_path

BAD_PATHS = [
    ("../etc/passwd", "outside the workspace"),
    ("data/../../etc/passwd", "outside the workspace"),
    ("..\\windows\\win.ini", "backslash"),
    ("data\\x.csv", "backslash"),
    ("%2e%2e%2fetc%2fpasswd", "percent-encoded"),
    ("%252e%252e%252fetc", "percent-encoded"),
    ("/etc/passwd", "absolute"),
    ("~/x.csv", "absolute"),
    ("file:///etc/passwd", "URL"),
    ("C:/Windows/x", "URL or drive"),
    ("s3://bucket/x", "URL"),
    ("x.csv#../../etc/passwd", "'#' or '?'"),
    ("x.csv?../../etc", "'#' or '?'"),
    ("x.csv\x00.png", "NUL"),
    ("\uff0e\uff0e\uff0fetc", "look-alike"),  # fullwidth ../
    ("data\uff0fx.csv", "look-alike"),
    ("\u2024\u2024/etc", "look-alike"),  # one-dot leaders
    ("", "required"),
    ("./.", "names no file"),
]


@pytest.mark.parametrize(("value", "needle"), BAD_PATHS)
def test_bad_paths_are_refused_naming_the_field(value: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        relative_path(value, "reference")
    assert info.value.message.startswith("reference:")
    assert needle in info.value.message


@pytest.mark.parametrize(
    ("value", "clean"),
    [("data/x.csv", "data/x.csv"), ("./data//x.csv", "data/x.csv"), ("a b/ü.csv", "a b/ü.csv")],
)
def test_good_paths_are_normalised_once(value: str, clean: str) -> None:
    assert relative_path(value, "p") == clean


def test_symlink_escaping_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (tmp_path / "secret.csv").write_text("x")
    os.symlink(tmp_path / "secret.csv", root / "link.csv")
    (root / "inside.csv").write_text("y")
    os.symlink(root / "inside.csv", root / "ok.csv")
    with pytest.raises(InvalidInput, match="symlink"):
        safe_path(root, "link.csv", "reference")
    assert safe_path(root, "ok.csv", "reference") == (root / "inside.csv").resolve()


@pytest.mark.parametrize(
    "value",
    [
        "x; DROP TABLE assets; --",
        "x' OR '1'='1",
        'x" --',
        "x/**/UNION",
        "1abc",
        "a-b",
        "a.b",
        "",
        "x" * 129,
        "ĳ",
        "__import__('os')",
    ],
)
def test_sql_and_code_metacharacters_in_feature_names_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid feature name"):
        identifier(value, "features")


@pytest.mark.parametrize("value", ["customer_stats:ltv_90d", "v:f"])
def test_feature_refs(value: str) -> None:
    assert feature_ref(value) == value


@pytest.mark.parametrize("value", ["v", "v:f;drop", "../v:f", "v:f:g"])
def test_bad_feature_refs(value: str) -> None:
    with pytest.raises(InvalidInput):
        feature_ref(value)


@pytest.mark.parametrize("value", ["..", "a..b", ".hidden", "a/b"])
def test_resource_names_never_hold_traversal(value: str) -> None:
    with pytest.raises(InvalidInput):
        identifier(value, "name", kind="name")
