"""One settings model for a workspace: ``shipyard.toml`` overlaid by ``SHIPYARD_*`` environment variables.

Every engine URL or path has an embedded default (DESIGN.md, "Embedded defaults"); an empty string means
"use the embedded default". Relative paths are relative to the workspace root and are resolved by
``Workspace``, never here, so the same file works wherever the workspace is checked out.
Environment overrides use ``__`` for nesting: ``SHIPYARD_SERVING__TRITON_URL=host:8000``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shipyard.copilot.settings import CopilotSettings
from shipyard.errors import InvalidInput
from shipyard.governance.settings import GovernanceSettings
from shipyard.gpu_runtime.batching import DynamicBatching

CONFIG_FILENAME = "shipyard.toml"


class ProjectSettings(BaseModel):
    name: str = "default"


class StoreSettings(BaseModel):
    url: str = Field("", description="SQLAlchemy URL; empty = SQLite (WAL) at .shipyard/shipyard.db")


class MlflowSettings(BaseModel):
    tracking_uri: str = Field("", description="empty = SQLite backend at .shipyard/mlflow.db")
    artifact_root: str = Field(".shipyard/mlartifacts", description="local path or object-store URI")


class FeatureSettings(BaseModel):
    repo: str = Field("features", description="Feast feature repository (feature_store.yaml inside)")


class PipelineSettings(BaseModel):
    dir: str = "pipelines"
    runs_dir: str = ".shipyard/runs"
    kernel: str = Field("python3", description="Jupyter kernel that runs step notebooks")
    step_timeout_s: int = 1800


class ServingSettings(BaseModel):
    triton_url: str = Field(
        "", description="host:port of an external Triton HTTP endpoint; empty = start one"
    )
    model_repository: str = ".shipyard/triton/models"
    http_port: int = Field(0, ge=0, le=65535, description="0 = pick a free port")
    grpc_port: int = Field(0, ge=0, le=65535)
    metrics_port: int = Field(0, ge=0, le=65535)
    startup_timeout_s: float = Field(90.0, gt=0)
    parity_rows: int = Field(1000, gt=0)
    parity_tolerance: float = Field(1e-4, gt=0)
    backend: Literal["auto", "onnxruntime", "python", "tensorrt"] = Field(
        "auto", description="how Triton runs models; auto = ONNX Runtime if the server has it, else python"
    )
    tensorrt_precision: Literal["fp16", "fp32"] = Field(
        "fp32", description="TensorRT precision on GPU; fp16 is faster but may exceed parity_tolerance"
    )
    protocol: Literal["http", "grpc"] = Field("http", description="how predictions reach Triton")
    triton_grpc_url: str = Field(
        "", description="host:port of an external Triton's gRPC endpoint (protocol = grpc)"
    )
    batching: DynamicBatching = Field(
        default_factory=DynamicBatching, description="Triton dynamic batching ([serving.batching])"
    )


class MonitorSettings(BaseModel):
    log_dir: str = ".shipyard/predictions"
    flush_rows: int = Field(512, gt=0)
    flush_interval_s: float = Field(1.0, gt=0)


class RaySettings(BaseModel):
    address: str = Field("", description="empty = local Ray; ray://host:10001 for a cluster")


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)


class ShipyardConfig(BaseSettings):
    """The whole configuration of a workspace."""

    model_config = SettingsConfigDict(env_prefix="SHIPYARD_", env_nested_delimiter="__", extra="forbid")

    project: ProjectSettings = ProjectSettings()
    store: StoreSettings = StoreSettings()
    mlflow: MlflowSettings = MlflowSettings()
    features: FeatureSettings = FeatureSettings()
    pipelines: PipelineSettings = PipelineSettings()
    serving: ServingSettings = ServingSettings()
    monitor: MonitorSettings = MonitorSettings()
    ray: RaySettings = RaySettings()
    server: ServerSettings = ServerSettings()
    governance: GovernanceSettings = GovernanceSettings()
    copilot: CopilotSettings = CopilotSettings()

    _toml_path: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)


def load_config(toml_path: Path) -> ShipyardConfig:
    """Read ``toml_path`` with environment overrides; bad values raise ``InvalidInput`` naming the field."""
    try:
        with toml_path.open("rb") as fh:
            tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            f"{toml_path}: not valid TOML ({exc}); fix the file or re-run `shipyard init`"
        ) from exc
    except OSError as exc:
        raise InvalidInput(f"{toml_path}: cannot be read ({exc.strerror})") from exc
    # A subclass per file keeps the TOML path off the shared class, so two workspaces never mix.
    bound = type("BoundShipyardConfig", (ShipyardConfig,), {"_toml_path": toml_path})
    try:
        return bound()
    except ValidationError as exc:
        raise InvalidInput(f"{toml_path}: {_describe(exc)}", detail=exc.errors(include_url=False)) from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def default_toml(project: str) -> str:
    """The ``shipyard.toml`` written by ``shipyard init``: every setting, with its embedded default."""
    lines = [
        "# Shipyard workspace. Empty values use the embedded default; SHIPYARD_<SECTION>__<KEY> overrides.",
        "",
    ]
    # model_construct skips the environment: the file records defaults, not this shell's overrides.
    data: dict[str, Any] = ShipyardConfig.model_construct().model_dump()
    data["project"]["name"] = project
    for section, values in data.items():
        _toml_table(lines, section, values)
    return "\n".join(lines)


def _toml_table(lines: list[str], name: str, values: dict[str, Any]) -> None:
    # Scalars first, then nested models as [name.key] sub-tables (TOML forbids keys after a sub-table).
    lines.append(f"[{name}]")
    nested = {k: v for k, v in values.items() if isinstance(v, dict)}
    for key, value in values.items():
        if key not in nested:
            lines.append(f"{key} = {_toml_value(value)}")
    lines.append("")
    for key, value in nested.items():
        _toml_table(lines, f"{name}.{key}", value)


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
