/** "Promote to pipeline": preview (steps, DAG, parameters, warnings) → create → run with per-step status. */

import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { PromoteBody, ShipyardClient } from './api';
import { describeError } from './errors';
import { clip, formatPreview, layoutDag, seconds } from './format';
import { PromotePreview, RunResult } from './models';

export function DagDrawing(props: { preview: PromotePreview }): JSX.Element | null {
  const layout = layoutDag(props.preview);
  if (!layout.nodes.length) {
    return null;
  }
  const w = 120;
  const h = 28;
  return (
    <svg className="jp-shipyard-dag" width={layout.width + 8} height={layout.height + 8} data-testid="shipyard-dag">
      <g transform="translate(4,4)">
        {layout.edges.map((e, i) => (
          <line key={i} x1={e.from.x + w} y1={e.from.y + h / 2} x2={e.to.x} y2={e.to.y + h / 2} className="jp-shipyard-dag-edge" />
        ))}
        {layout.nodes.map(n => (
          <g key={n.name} transform={`translate(${n.x},${n.y})`}>
            <rect width={w} height={h} rx={4} className="jp-shipyard-dag-node" />
            <text x={w / 2} y={h / 2 + 4} textAnchor="middle">
              {clip(n.name, 16)}
            </text>
          </g>
        ))}
      </g>
    </svg>
  );
}

export function PreviewView(props: { preview: PromotePreview }): JSX.Element {
  const view = formatPreview(props.preview);
  if (view.empty) {
    return (
      <div className="jp-shipyard-hint" data-testid="shipyard-promote-hint">
        {view.hint}
        {view.warnings.map((w, i) => (
          <div key={i} className="jp-shipyard-warning">
            {w}
          </div>
        ))}
      </div>
    );
  }
  return (
    <div data-testid="shipyard-promote-preview">
      <table className="jp-shipyard-table">
        <thead>
          <tr>
            <th>Step</th>
            <th>Cells</th>
            <th>After</th>
            <th>Parameters</th>
            <th>Resources</th>
          </tr>
        </thead>
        <tbody>
          {view.rows.map(row => (
            <tr key={row.name} data-testid="shipyard-promote-step">
              <td>{row.name}</td>
              <td>{row.cells}</td>
              <td>{row.after}</td>
              <td>{row.parameters}</td>
              <td>{row.resources}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <DagDrawing preview={props.preview} />
      {view.parameters.length > 0 && (
        <div>
          <div className="jp-shipyard-subhead">Pipeline parameters</div>
          <ul>
            {view.parameters.map(([k, v]) => (
              <li key={k}>
                {k} = {v}
              </li>
            ))}
          </ul>
        </div>
      )}
      {view.warnings.map((w, i) => (
        <div key={i} className="jp-shipyard-warning" data-testid="shipyard-promote-warning">
          ⚠ {w}
        </div>
      ))}
    </div>
  );
}

export function RunTable(props: { run: RunResult }): JSX.Element {
  return (
    <div data-testid="shipyard-run" data-status={props.run.status}>
      <div className="jp-shipyard-subhead">
        Run {props.run.run_id}: <span className={`jp-shipyard-status jp-shipyard-status-${props.run.status}`}>{props.run.status}</span>
      </div>
      <table className="jp-shipyard-table">
        <tbody>
          {props.run.steps.map(step => (
            <tr key={step.name} data-testid="shipyard-run-step" data-status={step.status}>
              <td>{step.name}</td>
              <td className={`jp-shipyard-status-${step.status}`}>{step.status}</td>
              <td>{seconds(step.duration_s)}</td>
              <td title={step.error ?? ''}>{step.error ? clip(step.error, 120) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Stage = 'preview' | 'created' | 'running' | 'done';

function PromoteView(props: { client: ShipyardClient; body: PromoteBody }): JSX.Element {
  const [preview, setPreview] = React.useState<PromotePreview | null>(null);
  const [stage, setStage] = React.useState<Stage>('preview');
  const [run, setRun] = React.useState<RunResult | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);

  const load = async () => {
    setError(null);
    setBusy(true);
    try {
      setPreview(await props.client.previewPromote(props.body));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  React.useEffect(() => {
    void load();
  }, []);

  const create = async () => {
    setError(null);
    setBusy(true);
    try {
      setPreview(await props.client.promote(props.body));
      setStage('created');
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const start = async () => {
    if (!preview) {
      return;
    }
    setError(null);
    setBusy(true);
    setStage('running');
    setRun({ run_id: '…', status: 'running', steps: preview.steps.map(s => ({ name: s.name, status: 'pending' })) });
    // The run call returns when the run ends; meanwhile the newest recorded run shows step statuses live.
    const poll = setInterval(async () => {
      try {
        const latest = (await props.client.listRuns(preview.name, 1)).runs[0];
        if (latest && latest.status === 'running') {
          setRun(latest);
        }
      } catch {
        // polling is best effort; the run call below reports the real outcome
      }
    }, 1000);
    try {
      setRun(await props.client.runPipeline(preview.name));
      setStage('done');
    } catch (e) {
      setError(describeError(e));
      setStage('created');
    } finally {
      clearInterval(poll);
      setBusy(false);
    }
  };

  return (
    <div className="jp-shipyard-promote" data-testid="shipyard-promote">
      {preview && (
        <div className="jp-shipyard-muted">
          Pipeline <strong>{preview.name}</strong> → {preview.path}
          {stage === 'preview' && preview.diff && preview.diff.new === false ? ' (replaces the existing one)' : ''}
        </div>
      )}
      {busy && !preview && <div className="jp-shipyard-muted">Reading the notebook…</div>}
      {error && (
        <div className="jp-shipyard-error" role="alert" data-testid="shipyard-promote-error">
          {error}{' '}
          {!preview && (
            <button className="jp-shipyard-link" onClick={() => void load()}>
              Retry
            </button>
          )}
        </div>
      )}
      {preview && <PreviewView preview={preview} />}
      {run && <RunTable run={run} />}
      <div className="jp-shipyard-row">
        {preview && !formatPreview(preview).empty && stage === 'preview' && (
          <button className="jp-mod-styled jp-mod-accept" data-testid="shipyard-promote-create" disabled={busy} onClick={() => void create()}>
            Create pipeline
          </button>
        )}
        {(stage === 'created' || stage === 'done') && (
          <button className="jp-mod-styled jp-mod-accept" data-testid="shipyard-promote-run" disabled={busy} onClick={() => void start()}>
            {stage === 'done' ? 'Run again' : 'Run now'}
          </button>
        )}
      </div>
    </div>
  );
}

export class PromoteBodyWidget extends ReactWidget {
  constructor(private readonly props: { client: ShipyardClient; body: PromoteBody }) {
    super();
    this.addClass('jp-shipyard-widget');
  }

  render(): JSX.Element {
    return <PromoteView {...this.props} />;
  }
}
