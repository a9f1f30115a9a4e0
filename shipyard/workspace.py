"""The workspace: a folder with ``shipyard.toml``, its state under ``.shipyard/``, and the composition root.

Services are built lazily, once, from config, so opening a workspace costs a file read and nothing more;
the first use of ``ws.features`` imports Feast, the first use of ``ws.registry`` imports MLflow, and so on.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.config import CONFIG_FILENAME, ShipyardConfig, load_config
from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from shipyard.bridge.service import PipelineService
    from shipyard.catalog.service import CatalogService
    from shipyard.copilot.service import CopilotService
    from shipyard.features.service import FeatureService
    from shipyard.governance.service import Governance
    from shipyard.governance.tokens import TokenService
    from shipyard.gpu_runtime.deployments import DeploymentService
    from shipyard.gpu_runtime.training import TrainingService
    from shipyard.monitor.service import MonitorService
    from shipyard.registry.service import RegistryService
    from shipyard.store.db import MetadataStore

STATE_DIRNAME = ".shipyard"
WORKSPACE_ENV = "SHIPYARD_WORKSPACE"
RUN_CONTEXT_ENV = "SHIPYARD_RUN_CONTEXT"


class Workspace:
    """Paths, config and the lazily built domain services of one workspace."""

    def __init__(self, root: Path, config: ShipyardConfig, run_context: dict[str, Any] | None = None) -> None:
        self.root = root
        self.config = config
        # Set when a step notebook runs inside a pipeline: lineage (pipeline, run_id, step, notebook sha256).
        self.run_context: dict[str, Any] = dict(run_context or {})

    # -- locating -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open ``path``, else ``$SHIPYARD_WORKSPACE``, else the nearest ``shipyard.toml`` upward from cwd."""
        root = find_root(path)
        return cls(root, load_config(root / CONFIG_FILENAME), _run_context_from_env())

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIRNAME

    @property
    def project(self) -> str:
        return self.config.project.name

    def path(self, value: str) -> Path:
        """Resolve a configured path: absolute stays, relative is taken from the workspace root."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    # -- services (built once, on first use) ------------------------------------------------------------
    @cached_property
    def tokens(self) -> TokenService:
        from shipyard.governance.tokens import TokenService

        return TokenService(self.store)

    @cached_property
    def store(self) -> MetadataStore:
        from shipyard.store.db import MetadataStore

        url = self.config.store.url or f"sqlite:///{self.state_dir / 'shipyard.db'}"
        return MetadataStore.connect(url)

    @cached_property
    def features(self) -> FeatureService:
        from shipyard.features.service import FeatureService

        return FeatureService(self)

    @cached_property
    def pipelines(self) -> PipelineService:
        from shipyard.bridge.service import PipelineService

        return PipelineService(self)

    @cached_property
    def registry(self) -> RegistryService:
        from shipyard.registry.service import RegistryService

        return RegistryService(self)

    @cached_property
    def deployments(self) -> DeploymentService:
        from shipyard.gpu_runtime.deployments import DeploymentService

        return DeploymentService(self)

    @cached_property
    def monitor(self) -> MonitorService:
        from shipyard.monitor.service import MonitorService

        return MonitorService(self)

    @cached_property
    def catalog(self) -> CatalogService:
        from shipyard.catalog.service import CatalogService

        return CatalogService(self)

    @cached_property
    def copilot(self) -> CopilotService:
        from shipyard.copilot.service import CopilotService

        return CopilotService(self)

    @cached_property
    def governance(self) -> Governance:
        from shipyard.governance.service import governance_for

        return governance_for(self)

    @cached_property
    def training(self) -> TrainingService:
        from shipyard.gpu_runtime.training import TrainingService

        return TrainingService(self)

    def close(self) -> None:
        """Flush logs and stop every process this workspace started (Triton, Ray); safe to call twice."""
        for name in ("monitor", "deployments", "training", "copilot"):
            service = self.__dict__.get(name)
            if service is not None:
                service.close()
        store = self.__dict__.get("store")
        if store is not None:
            store.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_root(path: str | os.PathLike[str] | None = None) -> Path:
    """Find the workspace root; errors name the path that was tried and what to run."""
    explicit = path if path is not None else os.environ.get(WORKSPACE_ENV) or None
    if explicit is not None:
        root = Path(explicit).expanduser().resolve()
        if root.is_file():
            if root.name == CONFIG_FILENAME:
                return root.parent
            raise InvalidInput(
                f"workspace path {root} is a file; pass the folder that holds {CONFIG_FILENAME}"
            )
        if not (root / CONFIG_FILENAME).is_file():
            raise NotFound(f"no {CONFIG_FILENAME} in {root}; create one with `shipyard init {root}`")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILENAME).is_file():
            return candidate
    raise NotFound(
        f"no {CONFIG_FILENAME} in {here} or any parent; run `shipyard init PATH`, "
        f"pass --workspace PATH or set {WORKSPACE_ENV}"
    )


def _run_context_from_env() -> dict[str, Any]:
    raw = os.environ.get(RUN_CONTEXT_ENV, "")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{RUN_CONTEXT_ENV} is not valid JSON ({exc}); unset it outside a pipeline run"
        ) from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"{RUN_CONTEXT_ENV} must be a JSON object, got {type(value).__name__}")
    return value
