/** Deploy dialog state without React: model/alias choices, name checks and the stage list as events arrive. */

import { Deployment, DeployStageEvent, ModelVersion } from './models';

/** The deploy stages in order, as DeploymentService reports them (see shipyard/gpu_runtime/deployments.py). */
export const DEPLOY_STAGES: [string, string][] = [
  ['resolve', 'Resolve model and feature refs'],
  ['load_and_export', 'Verify artifact, export to ONNX'],
  ['parity', 'Numeric parity check'],
  ['triton_start', 'Start Triton'],
  ['repository_and_load', 'Write model repository, load'],
  ['smoke_inference', 'Smoke inference on Triton'],
  ['record', 'Record deployment, register for monitoring']
];
/** Stages only some machines run, placed after the stage they follow. */
export const EXTRA_STAGES: Record<string, { after: string; label: string }> = {
  tensorrt_parity: { after: 'parity', label: 'TensorRT parity check (GPU)' }
};

export const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export type StageState = 'pending' | 'running' | 'done' | 'failed';

export interface StageRow {
  stage: string;
  label: string;
  state: StageState;
  seconds: number | null;
}

export interface ModelChoice {
  name: string;
  /** Refs to offer: aliases first (champion first), then version numbers, newest first. */
  refs: { ref: string; label: string }[];
}

/** One choice per model name, with its aliases and versions. */
export function modelChoices(versions: ModelVersion[]): ModelChoice[] {
  const byName = new Map<string, ModelVersion[]>();
  for (const v of versions) {
    byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const sorted = [...list].sort((a, b) => Number(b.version) - Number(a.version));
      const aliases = sorted
        .flatMap(v => v.aliases.map(alias => ({ alias, version: v.version })))
        .sort((a, b) => Number(b.alias === 'champion') - Number(a.alias === 'champion') || a.alias.localeCompare(b.alias));
      return {
        name,
        refs: [
          ...aliases.map(a => ({ ref: a.alias, label: `@${a.alias} (v${a.version})` })),
          ...sorted.map(v => ({ ref: v.version, label: `version ${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}` }))
        ]
      };
    });
}

/** Why a deployment name is refused (the server's rule), or null. */
export function deploymentNameError(name: string): string | null {
  if (DEPLOYMENT_NAME.test(name)) {
    return null;
  }
  return `Deployment name "${name}" is not valid: use 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit.`;
}

/** The stage list before anything ran. */
export function initialStages(): StageRow[] {
  return DEPLOY_STAGES.map(([stage, label]) => ({ stage, label, state: 'pending', seconds: null }));
}

function labelOf(stage: string): string {
  return DEPLOY_STAGES.find(([s]) => s === stage)?.[1] ?? EXTRA_STAGES[stage]?.label ?? stage;
}

/** The stage list after one event; an extra stage is inserted after the stage it follows. */
export function applyStageEvent(rows: StageRow[], event: DeployStageEvent): StageRow[] {
  const state: StageState = event.state === 'start' ? 'running' : event.state === 'done' ? 'done' : 'failed';
  let next = rows;
  if (!rows.some(r => r.stage === event.stage)) {
    const after = EXTRA_STAGES[event.stage]?.after;
    const at = after ? rows.findIndex(r => r.stage === after) + 1 : rows.length;
    const row: StageRow = { stage: event.stage, label: labelOf(event.stage), state: 'pending', seconds: null };
    next = [...rows.slice(0, at || rows.length), row, ...rows.slice(at || rows.length)];
  }
  return next.map(r => (r.stage === event.stage ? { ...r, state, seconds: event.seconds ?? null } : r));
}

/** The stage list from a finished deployment's ``stage_seconds`` (a server that does not stream stages). */
export function stagesFromResult(rows: StageRow[], result: Deployment): StageRow[] {
  let next = rows;
  for (const [stage, seconds] of Object.entries(result.stage_seconds ?? {})) {
    next = applyStageEvent(next, { stage, state: 'done', seconds });
  }
  return next;
}

/** After a failed deploy without stage events, the stage that was running (or the first pending) failed. */
export function markFailure(rows: StageRow[]): StageRow[] {
  if (rows.some(r => r.state === 'failed')) {
    return rows;
  }
  const i = rows.findIndex(r => r.state === 'running');
  const at = i >= 0 ? i : rows.findIndex(r => r.state === 'pending');
  return rows.map((r, j) => (j === at ? { ...r, state: 'failed' } : r));
}

/** "3/7 stages done" for the progress bar. */
export function stageProgress(rows: StageRow[]): { done: number; total: number } {
  return { done: rows.filter(r => r.state === 'done').length, total: rows.length };
}
