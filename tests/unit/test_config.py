from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import default_toml, load_config
from shipyard.errors import InvalidInput


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "shipyard.toml"
    p.write_text(text)
    return p


def test_default_toml_round_trips_every_section(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, default_toml("churn")))
    assert cfg.project.name == "churn"
    assert cfg.server.port == 8765
    assert cfg.serving.parity_tolerance == pytest.approx(1e-4)
    assert cfg.store.url == ""


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, default_toml("churn"))
    monkeypatch.setenv("SHIPYARD_SERVING__TRITON_URL", "10.0.0.5:8000")
    monkeypatch.setenv("SHIPYARD_SERVER__PORT", "9999")
    cfg = load_config(path)
    assert cfg.serving.triton_url == "10.0.0.5:8000"
    assert cfg.server.port == 9999


def test_two_workspaces_do_not_share_config(tmp_path: Path) -> None:
    a = write(tmp_path, '[project]\nname = "a"\n')
    (tmp_path / "b").mkdir()
    b = tmp_path / "b" / "shipyard.toml"
    b.write_text('[project]\nname = "b"\n')
    assert load_config(a).project.name == "a"
    assert load_config(b).project.name == "b"
    assert load_config(a).project.name == "a"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[server]\nport = 0\n", "server.port"),
        ("[server]\nport = 'x'\n", "server.port"),
        ("[serving]\nparity_tolerance = -1\n", "serving.parity_tolerance"),
        ("[serving]\nbackend = 'cuda'\n", "serving.backend"),
        ("[serving]\nbackend = 1\n", "serving.backend"),
        ("[serving]\ntensorrt_precision = 'int8'\n", "serving.tensorrt_precision"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[server\nport = 1", "not valid TOML"),
    ],
)
def test_bad_config_names_the_field(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        load_config(write(tmp_path, text))
    assert needle in exc.value.message
    assert "shipyard.toml" in exc.value.message
