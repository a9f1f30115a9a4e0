/** "Deploy model": pick a registered model and alias, deploy, watch each stage; plus the Models side panel. */

import { ReactWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { ShipyardClient } from './api';
import {
  applyStageEvent,
  deploymentNameError,
  initialStages,
  markFailure,
  ModelChoice,
  modelChoices,
  StageRow,
  stageProgress,
  stagesFromResult
} from './deploystages';
import { describeError } from './errors';
import { seconds } from './format';
import { Deployment, ModelVersion } from './models';

export const NO_MODELS_HINT =
  'No registered models yet. Train and register one first (`shipyard train`, or `make demo` for the churn example), then reopen this dialog.';

type Phase = 'choose' | 'deploying' | 'done' | 'failed';

export function StageTable(props: { rows: StageRow[] }): JSX.Element {
  const { done, total } = stageProgress(props.rows);
  return (
    <div data-testid="shipyard-deploy-stages">
      <progress className="jp-shipyard-progress" value={done} max={total} data-testid="shipyard-deploy-progress" />
      <span className="jp-shipyard-muted">
        {' '}
        {done}/{total} stages
      </span>
      <table className="jp-shipyard-table">
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={r.stage} data-testid="shipyard-deploy-stage" data-stage={r.stage} data-state={r.state}>
              <td>{i + 1}</td>
              <td>{r.label}</td>
              <td className={`jp-shipyard-status-${r.state === 'done' ? 'succeeded' : r.state}`}>{r.state === 'running' ? 'running…' : r.state}</td>
              <td>{seconds(r.seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DeployResult(props: { deployment: Deployment }): JSX.Element {
  const d = props.deployment;
  return (
    <div className="jp-shipyard-hint" data-testid="shipyard-deploy-result">
      Deployed <strong>{d.name}</strong>: {d.model_name} v{d.model_version}
      {typeof d.parity_max_abs_diff === 'number' ? `, parity max |diff| ${d.parity_max_abs_diff.toExponential(2)}` : ''}
      {d.runtime ? `, ${d.runtime}` : ''}.
      <div className="jp-shipyard-muted">
        Predict: <code>POST /api/v1/deployments/{d.name}/predict</code> or <code>shipyard predict {d.name}</code>; watch it in Shipyard: Open Monitoring.
      </div>
    </div>
  );
}

export interface DeployProps {
  client: ShipyardClient;
  model?: string;
  /** Alias or version to preselect (not ``ref``: React reserves that prop name). */
  modelRef?: string;
}

function DeployView(props: DeployProps): JSX.Element {
  const [choices, setChoices] = React.useState<ModelChoice[] | null>(null);
  const [model, setModel] = React.useState(props.model ?? '');
  const [ref, setRef] = React.useState(props.modelRef ?? '');
  const [name, setName] = React.useState(props.model ?? '');
  const [named, setNamed] = React.useState(false);
  const [phase, setPhase] = React.useState<Phase>('choose');
  const [rows, setRows] = React.useState<StageRow[]>(initialStages());
  const [streamed, setStreamed] = React.useState(false);
  const [elapsed, setElapsed] = React.useState(0);
  const [result, setResult] = React.useState<Deployment | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const load = async () => {
    setError(null);
    try {
      const found = modelChoices(await props.client.models());
      setChoices(found);
      const first = found.find(c => c.name === props.model) ?? found[0];
      if (first) {
        pick(first, props.modelRef);
      }
    } catch (e) {
      setError(describeError(e));
    }
  };
  React.useEffect(() => {
    void load();
  }, []);

  const pick = (choice: ModelChoice, wanted?: string) => {
    setModel(choice.name);
    setRef(choice.refs.find(r => r.ref === wanted)?.ref ?? choice.refs[0]?.ref ?? 'champion');
    if (!named) {
      setName(choice.name);
    }
  };

  const start = async () => {
    const nameError = deploymentNameError(name);
    if (nameError) {
      setError(nameError);
      return;
    }
    setError(null);
    setResult(null);
    setRows(initialStages());
    setStreamed(false);
    setPhase('deploying');
    setElapsed(0);
    const t0 = Date.now();
    const timer = setInterval(() => setElapsed(Math.round((Date.now() - t0) / 1000)), 1000);
    let sawStage = false;
    try {
      const deployment = await props.client.deploy({ model, ref, name }, event => {
        sawStage = true;
        setStreamed(true);
        setRows(current => applyStageEvent(current, event));
      });
      if (!sawStage) {
        setRows(current => stagesFromResult(current, deployment));
      }
      setResult(deployment);
      setPhase('done');
    } catch (e) {
      setRows(current => markFailure(current));
      setError(describeError(e));
      setPhase('failed');
    } finally {
      clearInterval(timer);
    }
  };

  const choice = choices?.find(c => c.name === model);
  const busy = phase === 'deploying';
  return (
    <div className="jp-shipyard-deploy" data-testid="shipyard-deploy">
      {choices === null && !error && <div className="jp-shipyard-muted">Reading the model registry…</div>}
      {choices !== null && choices.length === 0 && (
        <div className="jp-shipyard-hint" data-testid="shipyard-deploy-empty">
          {NO_MODELS_HINT}
        </div>
      )}
      {choices !== null && choices.length > 0 && (
        <div className="jp-shipyard-form">
          <label>
            Model
            <select className="jp-shipyard-input" data-testid="shipyard-deploy-model" value={model} disabled={busy} onChange={e => pick(choices.find(c => c.name === e.target.value)!)}>
              {choices.map(c => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Alias or version
            <select className="jp-shipyard-input" data-testid="shipyard-deploy-ref" value={ref} disabled={busy} onChange={e => setRef(e.target.value)}>
              {(choice?.refs ?? []).map(r => (
                <option key={r.ref} value={r.ref}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Deployment name
            <input
              className="jp-shipyard-input"
              data-testid="shipyard-deploy-name"
              value={name}
              disabled={busy}
              onChange={e => {
                setNamed(true);
                setName(e.target.value);
              }}
            />
          </label>
        </div>
      )}
      {error && (
        <div className="jp-shipyard-error" role="alert" data-testid="shipyard-deploy-error">
          {error}{' '}
          {choices === null && (
            <button className="jp-shipyard-link" onClick={() => void load()}>
              Retry
            </button>
          )}
        </div>
      )}
      {phase !== 'choose' && <StageTable rows={rows} />}
      {busy && !streamed && (
        <div className="jp-shipyard-muted" data-testid="shipyard-deploy-waiting">
          Deploying {model}@{ref}… {elapsed} s. This server reports the stages when the deploy ends.
        </div>
      )}
      {result && <DeployResult deployment={result} />}
      {choices !== null && choices.length > 0 && (
        <div className="jp-shipyard-row">
          <button className="jp-mod-styled jp-mod-accept" data-testid="shipyard-deploy-start" disabled={busy || !model} onClick={() => void start()}>
            {phase === 'choose' ? 'Deploy' : phase === 'deploying' ? 'Deploying…' : 'Deploy again'}
          </button>
        </div>
      )}
    </div>
  );
}

export class DeployBodyWidget extends ReactWidget {
  constructor(private readonly props: DeployProps) {
    super();
    this.addClass('jp-shipyard-widget');
  }

  render(): JSX.Element {
    return <DeployView {...this.props} />;
  }
}

export function ModelList(props: { versions: ModelVersion[]; onDeploy: (model: string, ref: string) => void }): JSX.Element {
  return (
    <ul className="jp-shipyard-list">
      {props.versions.map(v => (
        <li key={`${v.name}/${v.version}`} className="jp-shipyard-model" data-testid="shipyard-model">
          <div>
            <strong>{v.name}</strong> v{v.version} {v.aliases.map(a => `@${a}`).join(' ')}
          </div>
          <div className="jp-shipyard-muted">
            {Object.entries(v.metrics ?? {})
              .map(([k, m]) => `${k}=${Number(m).toPrecision(3)}`)
              .join(', ')}
          </div>
          <button className="jp-shipyard-link" data-testid="shipyard-model-deploy" onClick={() => props.onDeploy(v.name, v.aliases[0] ?? v.version)}>
            Deploy…
          </button>
        </li>
      ))}
    </ul>
  );
}

function ModelsView(props: { client: ShipyardClient; shown: boolean; onDeploy: (model?: string, ref?: string) => void }): JSX.Element {
  const [versions, setVersions] = React.useState<ModelVersion[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const load = async () => {
    setError(null);
    try {
      setVersions(await props.client.models());
    } catch (e) {
      setError(describeError(e));
    }
  };
  // Read the registry when the panel is first opened, not on every page load (it opens MLflow).
  React.useEffect(() => {
    if (props.shown && versions === null) {
      void load();
    }
  }, [props.shown]);
  return (
    <div className="jp-shipyard-panel" data-testid="shipyard-models">
      <div className="jp-shipyard-title">Models</div>
      <div className="jp-shipyard-row">
        <button className="jp-mod-styled jp-mod-accept" data-testid="shipyard-models-deploy" onClick={() => props.onDeploy()}>
          Deploy model…
        </button>
        <button className="jp-shipyard-link" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {error && (
        <div className="jp-shipyard-error" role="alert">
          {error}
        </div>
      )}
      {versions === null && !error && <div className="jp-shipyard-muted">Reading the model registry…</div>}
      {versions !== null && versions.length === 0 && <div className="jp-shipyard-hint">{NO_MODELS_HINT}</div>}
      {versions && <ModelList versions={versions} onDeploy={props.onDeploy} />}
    </div>
  );
}

/** The left-sidebar list of registered models, each with "Deploy…". */
export class ModelsPanel extends ReactWidget {
  private shown = false;

  constructor(private readonly props: { client: ShipyardClient; onDeploy: (model?: string, ref?: string) => void }) {
    super();
    this.id = 'shipyard-models';
    this.addClass('jp-shipyard-widget');
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this.shown) {
      this.shown = true;
      this.update();
    }
  }

  render(): JSX.Element {
    return <ModelsView {...this.props} shown={this.shown || this.isVisible} />;
  }
}
