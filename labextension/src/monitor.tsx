/** Monitoring view per deployment: status and alerts, drift per feature, latency percentiles over time. */

import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { ShipyardClient } from './api';
import { describeError } from './errors';
import { clip } from './format';

type Json = Record<string, unknown>;

export interface DriftRow {
  feature: string;
  method: string;
  statistic: number;
  threshold: number | null;
  drifted: boolean;
}

/** Rows of a drift report's ``features`` map, most drifted first. */
export function driftRows(report: Json): DriftRow[] {
  const features = (report.features ?? {}) as Record<string, Json>;
  return Object.entries(features)
    .map(([feature, f]) => ({
      feature,
      method: String(f.method ?? ''),
      statistic: Number(f.statistic ?? 0),
      threshold: f.threshold === undefined || f.threshold === null ? null : Number(f.threshold),
      drifted: Boolean(f.drifted)
    }))
    .sort((a, b) => Number(b.drifted) - Number(a.drifted) || b.statistic - a.statistic);
}

/** Latency series for the chart: one point per window for each percentile present. */
export function latencySeries(report: Json): { labels: string[]; series: Record<string, number[]> } {
  const windows = (report.windows ?? []) as Json[];
  const series: Record<string, number[]> = {};
  for (const key of ['p50_ms', 'p95_ms', 'p99_ms', 'p50', 'p95', 'p99']) {
    if (windows.some(w => typeof w[key] === 'number')) {
      series[key] = windows.map(w => Number(w[key] ?? 0));
    }
  }
  return { labels: windows.map(w => String(w.start ?? w.window_start ?? '')), series };
}

function Bars(props: { rows: DriftRow[] }): JSX.Element | null {
  if (!props.rows.length) {
    return null;
  }
  const max = Math.max(...props.rows.map(r => r.statistic), ...props.rows.map(r => r.threshold ?? 0), 1e-9);
  return (
    <svg className="jp-shipyard-chart" width={360} height={props.rows.length * 18 + 4} data-testid="shipyard-drift-chart">
      {props.rows.map((r, i) => (
        <g key={r.feature} transform={`translate(0,${i * 18})`}>
          <text x={0} y={12}>
            {clip(r.feature, 18)}
          </text>
          <rect x={130} y={3} height={11} width={(220 * r.statistic) / max} className={r.drifted ? 'jp-shipyard-bar-bad' : 'jp-shipyard-bar'} />
        </g>
      ))}
    </svg>
  );
}

function Lines(props: { report: Json }): JSX.Element | null {
  const { labels, series } = latencySeries(props.report);
  const keys = Object.keys(series);
  if (!labels.length || !keys.length) {
    return null;
  }
  const max = Math.max(...keys.flatMap(k => series[k]), 1e-9);
  const w = 360;
  const h = 100;
  const x = (i: number) => (labels.length === 1 ? w / 2 : (i * w) / (labels.length - 1));
  return (
    <svg className="jp-shipyard-chart" width={w} height={h + 16} data-testid="shipyard-latency-chart">
      {keys.map((k, j) => (
        <g key={k}>
          <polyline fill="none" className={`jp-shipyard-line-${j}`} points={series[k].map((v, i) => `${x(i)},${h - (h * v) / max}`).join(' ')} />
          <text x={4 + j * 70} y={h + 14}>
            {k}
          </text>
        </g>
      ))}
    </svg>
  );
}

function KeyValues(props: { data: Json }): JSX.Element {
  return (
    <dl className="jp-shipyard-facts">
      {Object.entries(props.data).map(([k, v]) => (
        <React.Fragment key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'object' ? clip(JSON.stringify(v), 300) : String(v)}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}

function DeploymentMonitor(props: { client: ShipyardClient; name: string }): JSX.Element {
  const [status, setStatus] = React.useState<Json | null>(null);
  const [drift, setDrift] = React.useState<Json | null>(null);
  const [latency, setLatency] = React.useState<Json | null>(null);
  const [errors, setErrors] = React.useState<string[]>([]);

  const load = async () => {
    setErrors([]);
    const found: string[] = [];
    const get = async (what: 'status' | 'drift' | 'latency', set: (v: Json) => void) => {
      try {
        set(await props.client.monitor(props.name, what));
      } catch (e) {
        found.push(describeError(e));
      }
    };
    await Promise.all([get('status', setStatus), get('drift', setDrift), get('latency', setLatency)]);
    setErrors(found);
  };
  React.useEffect(() => {
    void load();
  }, [props.name]);

  const rows = drift ? driftRows(drift) : [];
  return (
    <div data-testid="shipyard-deployment-monitor">
      <div className="jp-shipyard-subhead">
        {props.name}{' '}
        <button className="jp-shipyard-link" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {errors.map((e, i) => (
        <div key={i} className="jp-shipyard-error" role="alert">
          {e}
        </div>
      ))}
      {status && <KeyValues data={status} />}
      <div className="jp-shipyard-subhead">Drift per feature</div>
      {rows.length ? (
        <>
          <Bars rows={rows} />
          <table className="jp-shipyard-table">
            <tbody>
              {rows.map(r => (
                <tr key={r.feature} className={r.drifted ? 'jp-shipyard-drifted' : ''}>
                  <td>{r.feature}</td>
                  <td>{r.method}</td>
                  <td>{r.statistic.toPrecision(3)}</td>
                  <td>{r.drifted ? 'drifted' : 'ok'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <div className="jp-shipyard-muted">No drift report yet (it needs logged predictions and a reference profile).</div>
      )}
      <div className="jp-shipyard-subhead">Latency</div>
      {latency ? <Lines report={latency} /> : null}
    </div>
  );
}

function MonitorView(props: { client: ShipyardClient }): JSX.Element {
  const [names, setNames] = React.useState<string[] | null>(null);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const load = async () => {
    setError(null);
    try {
      const raw = await props.client.deployments();
      const list = (Array.isArray(raw) ? raw : ((raw as Json)?.deployments as unknown[]) ?? []) as Json[];
      setNames(list.map(d => String(d.name ?? d.deployment ?? '')).filter(Boolean));
    } catch (e) {
      setError(describeError(e));
    }
  };
  React.useEffect(() => {
    void load();
  }, []);
  return (
    <div className="jp-shipyard-panel jp-shipyard-monitor" data-testid="shipyard-monitor">
      <div className="jp-shipyard-title">Monitoring</div>
      {error && (
        <div className="jp-shipyard-error" role="alert">
          {error}{' '}
          <button className="jp-shipyard-link" onClick={() => void load()}>
            Retry
          </button>
        </div>
      )}
      {names === null && !error && <div className="jp-shipyard-muted">Loading deployments…</div>}
      {names !== null && names.length === 0 && (
        <div className="jp-shipyard-muted" data-testid="shipyard-monitor-empty">
          No deployments yet. Deploy a registered model with `%deploy NAME@champion` or `shipyard deploy`.
        </div>
      )}
      <div className="jp-shipyard-chips">
        {(names ?? []).map(n => (
          <button key={n} className="jp-shipyard-chip" data-testid="shipyard-deployment" onClick={() => setSelected(n)}>
            {n}
          </button>
        ))}
      </div>
      {selected && <DeploymentMonitor client={props.client} name={selected} />}
    </div>
  );
}

export class MonitorWidget extends ReactWidget {
  constructor(private readonly client: ShipyardClient) {
    super();
    this.id = 'shipyard-monitor';
    this.addClass('jp-shipyard-widget');
  }

  render(): JSX.Element {
    return <MonitorView client={this.client} />;
  }
}
