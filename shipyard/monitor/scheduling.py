"""Monitoring on a schedule: a Dagster code location with a job, a cron schedule and a new-partition sensor.

``monitor_definitions`` builds, for one workspace, the job ``shipyard_monitor`` (one op running
``MonitorService.run_checks`` for the deployment named in its config) and two triggers:

* the sensor ``shipyard_monitor_new_partitions`` keeps, in its Dagster cursor, the newest prediction-log
  partition id it has seen per deployment and requests one run per deployment that has a newer one
  (run key ``DEPLOYMENT:PARTITION_ID``, so a repeated tick never starts a second run for the same data);
* the schedule ``shipyard_monitor_schedule`` (cron) requests a run for each deployment whose next pass has
  work: unread partitions, or labels ingested since its last pass (performance checks need no new traffic).

Either way the pass itself is incremental: it reads only partitions indexed since the deployment's last
pass (see ``passes.py``). ``write_code_location`` writes the small file ``dagster dev -f`` loads.
"""

# No `from __future__ import annotations`: Dagster reads the op's context annotation at definition time.
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput

JOB = "shipyard_monitor"
OP = "shipyard_monitor_pass"
SENSOR = "shipyard_monitor_new_partitions"
SCHEDULE = "shipyard_monitor_schedule"
DEFAULT_CRON = "*/15 * * * *"


@dataclass
class ScheduleOptions:
    """What the generated code location monitors, and how often."""

    cron: str = DEFAULT_CRON
    deployments: list[str] = field(default_factory=list)  # empty: every deployment, found at each tick
    sensor_interval_s: int = 60
    out: Path | None = None


@dataclass
class ScheduleLocation:
    """The written code location and the command that serves it."""

    path: str
    cron: str
    deployments: list[str]
    sensor_interval_s: int
    command: str


def monitor_definitions(
    workspace: str | os.PathLike[str],
    deployments: list[str] | None = None,
    cron: str = DEFAULT_CRON,
    sensor_interval_s: int = 60,
) -> Any:
    """A ``dagster.Definitions`` running the monitoring passes of ``workspace`` on a schedule and a sensor."""
    import dagster as dg

    root = str(Path(workspace).resolve())
    fixed = list(deployments or [])
    _check(cron, fixed, sensor_interval_s)

    @dg.op(name=OP, config_schema={"deployment": dg.Field(str)}, description="One monitoring pass.")
    def monitor_pass(context: dg.OpExecutionContext) -> dict[str, Any]:
        from shipyard.workspace import Workspace

        name = context.op_config["deployment"]
        with Workspace.open(root) as ws:
            result = ws.monitor.run_checks(name)
        for alert in result.alerts:
            context.log.warning(f"{alert.kind} alert on {alert.subject}: {alert.message}")
        summary = {
            "deployment": name,
            "windows": len(result.windows),
            "rows_checked": sum(w["rows"] for w in result.windows),
            "pending_rows": result.pending_rows,
            "alerts": [f"{a.kind}:{a.subject}" for a in result.alerts],
            "retrain": (result.retrain or {}).get("run_id", ""),
        }
        context.add_output_metadata(
            {k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in summary.items()}
        )
        return summary

    @dg.job(name=JOB, description=f"Shipyard monitoring pass of one deployment of {root}")
    def monitor_job() -> None:
        monitor_pass()

    def names(ws: Any) -> list[str]:
        return fixed or ws.monitor.deployment_names()

    @dg.sensor(
        name=SENSOR,
        job=monitor_job,
        minimum_interval_seconds=sensor_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A pass for each deployment with prediction-log partitions newer than the cursor.",
    )
    def new_partitions(context: dg.SensorEvaluationContext) -> Any:
        from shipyard.workspace import Workspace

        seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        requests = []
        with Workspace.open(root) as ws:
            for name in names(ws):
                latest = ws.monitor.log_cursor(name)
                if latest > seen.get(name, 0):
                    requests.append(_request(dg, name, f"{name}:{latest}"))
                    seen[name] = latest
        if not requests:
            return dg.SkipReason("no new prediction-log partitions since the last tick")
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

    @dg.schedule(
        cron_schedule=cron,
        job=monitor_job,
        name=SCHEDULE,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="A pass for each deployment with unread partitions or new labels.",
    )
    def every(context: dg.ScheduleEvaluationContext) -> Any:
        from shipyard.workspace import Workspace

        with Workspace.open(root) as ws:
            due = [n for n in names(ws) if ws.monitor.unread_partitions(n) or ws.monitor.unread_labels(n)]
        if not due:
            return dg.SkipReason("no deployment has unread prediction-log partitions or new labels")
        tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else ""
        return [_request(dg, name, f"{name}:{tick}") for name in due]

    return dg.Definitions(jobs=[monitor_job], sensors=[new_partitions], schedules=[every])


def _request(dg: Any, deployment: str, run_key: str) -> Any:
    return dg.RunRequest(
        run_key=run_key,
        run_config={"ops": {OP: {"config": {"deployment": deployment}}}},
        tags={"shipyard/deployment": deployment},
    )


def _check(cron: str, deployments: list[str], sensor_interval_s: int) -> None:
    from dagster._utils.schedules import is_valid_cron_string

    from shipyard.monitor.records import check_deployment_name

    if not isinstance(cron, str) or not is_valid_cron_string(cron):
        raise InvalidInput(f"cron {cron!r} is not a valid cron expression (e.g. '*/15 * * * *', '@hourly')")
    for name in deployments:
        check_deployment_name(name)
    if not isinstance(sensor_interval_s, int) or sensor_interval_s < 1:
        raise InvalidInput(
            f"sensor interval must be a whole number of seconds >= 1, got {sensor_interval_s!r}"
        )


def render_code_location(root: Path, options: ScheduleOptions, out: Path) -> str:
    """Source of the code location file ``out`` for workspace ``root``."""
    return "\n".join(
        [
            f'"""Dagster code location: Shipyard monitoring of workspace {str(root)!r}.',
            "",
            "Generated by `shipyard monitor schedule`; regenerate rather than edit. Serve it (webserver and",
            "daemon, so the schedule and the sensor tick) with:",
            "",
            f"    dagster dev -f {out}",
            '"""',
            "",
            "from shipyard.monitor.scheduling import monitor_definitions",
            "",
            "defs = monitor_definitions(",
            f"    {str(root)!r},",
            f"    deployments={options.deployments!r},",
            f"    cron={options.cron!r},",
            f"    sensor_interval_s={options.sensor_interval_s!r},",
            ")",
            "",
        ]
    )


def write_code_location(root: Path, options: ScheduleOptions, default: Path) -> ScheduleLocation:
    """Validate ``options`` and write the code location file (atomically) to ``options.out`` or ``default``."""
    _check(options.cron, options.deployments, options.sensor_interval_s)
    out = Path(options.out).expanduser() if options.out else default
    if out.suffix != ".py":
        raise InvalidInput(f"code location path {out} must end in .py")
    if options.out and not out.parent.is_dir():
        raise InvalidInput(f"folder {out.parent} does not exist; create it or choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render_code_location(Path(root).resolve(), options, out.resolve()))
    tmp.replace(out)
    return ScheduleLocation(
        str(out), options.cron, list(options.deployments), options.sensor_interval_s, f"dagster dev -f {out}"
    )
