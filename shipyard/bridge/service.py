"""PipelineService: promote a tagged notebook to a Dagster pipeline of papermill step notebooks, and run it.

Dagster and papermill are imported only when a pipeline runs, so building this service stays cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.bridge.models import PromoteResult, RunResult, StepResult, StepSpec, WebserverCommand
from shipyard.bridge.paths import DEFINITIONS_FILE, SPEC_FILE, check_pipeline_name, read_spec
from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from shipyard.bridge.promotion import PromotePlan
    from shipyard.workspace import Workspace

__all__ = ["PipelineService", "PromoteResult", "RunResult", "StepResult", "StepSpec"]


class PipelineService:
    """Pipelines of one workspace: ``WS/pipelines/NAME/`` folders and their runs."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    @property
    def pipelines_dir(self) -> Path:
        return self.ws.path(self.ws.config.pipelines.dir)

    def preview(
        self,
        notebook: Path | None,
        name: str | None = None,
        cells: list[str] | None = None,
        *,
        content: str | bytes | dict[str, Any] | None = None,
    ) -> PromoteResult:
        """What promoting would write (steps, edges, parameters, warnings, diff to the current one); writes nothing."""
        plan, result = self._plan(notebook, name, cells, content)
        result.applied = False
        return result

    def promote(
        self,
        notebook: Path | None,
        name: str | None = None,
        cells: list[str] | None = None,
        *,
        content: str | bytes | dict[str, Any] | None = None,
    ) -> PromoteResult:
        """Turn the tagged cells of a notebook (a path, or its content) into ``WS/pipelines/NAME/``, atomically."""
        plan, result = self._plan(notebook, name, cells, content)
        _replace_dir(Path(result.path), plan.files)
        return result

    def _plan(
        self,
        notebook: Path | None,
        name: str | None,
        cells: list[str] | None,
        content: str | bytes | dict[str, Any] | None,
    ) -> tuple[PromotePlan, PromoteResult]:
        from shipyard.bridge.defaults import notebook_defaults
        from shipyard.bridge.notebook import load_notebook, parse_notebook, select_cells
        from shipyard.bridge.promotion import SOURCE_COPY, diff_specs, plan_promotion

        if notebook is None and content is None:
            raise InvalidInput("pass a notebook path or the notebook content (JSON) to promote")
        path = self._notebook_path(Path(notebook)) if notebook is not None else None
        if content is not None:
            raw = _content_bytes(content)
            loaded = parse_notebook(raw, path or Path("notebook content"))
        else:
            assert path is not None
            loaded = load_notebook(path)
        defaults = notebook_defaults(loaded.metadata)
        if not (name or defaults.name):
            raise InvalidInput(
                "no pipeline name: pass --name NAME (or set \"name\" under the notebook metadata 'shipyard')"
            )
        name = check_pipeline_name(name or defaults.name or "")
        target = self.pipelines_dir / name
        source_ref = self._relative(path) if path is not None else self._relative(target / SOURCE_COPY)
        plan = plan_promotion(
            select_cells(loaded, cells),
            name,
            cells,
            source_ref,
            defaults,
            kernel=defaults.kernel or self.ws.config.pipelines.kernel,
            step_timeout_s=defaults.step_timeout_s or self.ws.config.pipelines.step_timeout_s,
        )
        if path is None:
            plan.files[SOURCE_COPY] = raw.decode("utf-8")
        old = read_spec(target) if (target / SPEC_FILE).is_file() else None
        result = PromoteResult(
            name=name,
            path=str(target),
            steps=plan.steps,
            warnings=plan.warnings,
            edges=plan.spec["edges"],
            parameters=plan.spec["parameters"],
            diff=diff_specs(old, plan.spec),
        )
        return plan, result

    def run(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        force: bool = False,
        strict_resources: bool = False,
        progress: Callable[[StepResult], None] | None = None,
        ray: bool | None = None,
    ) -> RunResult:
        """Materialize the pipeline's Dagster assets in-process; outputs under ``WS/.shipyard/runs/RUN_ID/``.

        Steps whose code, parameters and inputs match an earlier good run are reused unless ``force``;
        ``progress`` is called as each step starts (status ``started``) and ends. ``ray`` runs each step as
        a Ray task with its ``limit:`` resources (None: the notebook's ``metadata.shipyard.ray``).
        """
        from shipyard.bridge.runner import run_pipeline

        return run_pipeline(
            self.ws,
            self.pipelines_dir / check_pipeline_name(name),
            params,
            force=force,
            strict_resources=strict_resources,
            progress=progress,
            ray=ray,
        )

    def list_pipelines(self) -> list[str]:
        """Names of the promoted pipelines of this workspace, sorted."""
        root = self.pipelines_dir
        if not root.is_dir():
            return []
        return sorted(
            p.name for p in root.iterdir() if not p.name.startswith(".") and (p / SPEC_FILE).is_file()
        )

    def get_run(self, run_id: str) -> RunResult:
        """A recorded run of this workspace's project; an unknown id raises ``NotFound``."""
        from shipyard.bridge.runner import read_metrics
        from shipyard.store.models import PipelineRun

        with self.ws.store.session() as session:
            row = session.get(PipelineRun, run_id)
            if row is None or row.project != self.ws.project:
                raise NotFound(
                    f"pipeline run '{run_id}' not found; `shipyard pipeline run NAME` prints run ids"
                )
            steps = [StepResult(**s) for s in row.steps or []]
            return RunResult(
                run_id=row.id,
                status=row.status,
                steps=steps,
                pipeline=row.pipeline,
                run_dir=row.run_dir,
                parameters=dict(row.parameters or {}),
                metrics=read_metrics(Path(row.run_dir)),
            )

    def list_runs(self, name: str | None = None, limit: int = 50) -> list[RunResult]:
        """Recorded runs of this project (of pipeline ``name`` when given), newest first."""
        from sqlalchemy import select

        from shipyard.store.models import PipelineRun

        if name is not None:
            self.spec(name)  # an unknown pipeline is NotFound, not an empty list
        query = select(PipelineRun).where(PipelineRun.project == self.ws.project)
        if name is not None:
            query = query.where(PipelineRun.pipeline == name)
        query = query.order_by(PipelineRun.started_at.desc(), PipelineRun.id.desc()).limit(limit)
        with self.ws.store.session() as session:
            return [
                RunResult(
                    run_id=row.id,
                    status=row.status,
                    steps=[StepResult(**s) for s in row.steps or []],
                    pipeline=row.pipeline,
                    run_dir=row.run_dir,
                    parameters=dict(row.parameters or {}),
                )
                for row in session.scalars(query)
            ]

    def webserver(self, name: str, port: int, host: str = "127.0.0.1") -> WebserverCommand:
        """How to start Dagster's webserver on pipeline ``name``'s ``definitions.py`` (the surface starts it)."""
        import shutil
        import sys

        from shipyard.errors import EngineUnavailable

        self.spec(name)
        folder = self.pipelines_dir / name
        exe = Path(sys.executable).parent / "dagster-webserver"
        found = str(exe) if exe.is_file() else shutil.which("dagster-webserver")
        if found is None:
            from importlib.metadata import version

            raise EngineUnavailable(
                "Dagster's webserver is not installed; install the release matching dagster "
                f"(pip install 'dagster-webserver=={version('dagster')}'), or run the pipeline in-process "
                f"with `shipyard pipeline run {name}`"
            )
        argv = [found, "-f", str(folder / DEFINITIONS_FILE), "-h", host, "-p", str(port)]
        dagster_home = self.ws.state_dir / "dagster"
        # Dagster refuses to start unless DAGSTER_HOME already exists.
        dagster_home.mkdir(parents=True, exist_ok=True)
        env = {"SHIPYARD_WORKSPACE": str(self.ws.root), "DAGSTER_HOME": str(dagster_home)}
        return WebserverCommand(argv=argv, env=env, cwd=str(folder), url=f"http://{host}:{port}")

    def spec(self, name: str) -> dict[str, Any]:
        """The recorded ``pipeline.json`` of pipeline ``name``."""
        return read_spec(self.pipelines_dir / check_pipeline_name(name))

    def _notebook_path(self, notebook: Path) -> Path:
        if notebook.is_absolute():
            return notebook
        in_workspace = self.ws.root / notebook
        return in_workspace if in_workspace.exists() else Path.cwd() / notebook

    def _relative(self, path: Path) -> str:
        resolved = path.resolve()
        try:
            return str(resolved.relative_to(self.ws.root.resolve()))
        except ValueError:
            return str(resolved)


def _content_bytes(content: str | bytes | dict[str, Any]) -> bytes:
    if isinstance(content, dict):
        return json.dumps(content).encode("utf-8")
    return content.encode("utf-8") if isinstance(content, str) else content


def _replace_dir(target: Path, files: dict[str, str]) -> None:
    """Write ``files`` into a new folder beside ``target``, then swap it in (the old one is removed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    old: Path | None = None
    try:
        os.chmod(staging, 0o755)
        for rel, text in files.items():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old)  # onto the empty placeholder: rename(2) allows replacing an empty dir
            try:
                os.replace(staging, target)
            except OSError:
                os.replace(old, target)
                old = None
                raise
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)
