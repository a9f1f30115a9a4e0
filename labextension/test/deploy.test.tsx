import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import { readDeployStream } from '../src/api';
import { CellTagChips } from '../src/celltags';
import { DeployResult, ModelList, StageTable } from '../src/deploy';
import {
  applyStageEvent,
  DEPLOY_STAGES,
  deploymentNameError,
  initialStages,
  markFailure,
  modelChoices,
  stageProgress,
  stagesFromResult
} from '../src/deploystages';
import { ApiError } from '../src/errors';
import { ModelVersion } from '../src/models';

const XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

const versions: ModelVersion[] = [
  { name: 'churn', version: '3', aliases: [] },
  { name: 'churn', version: '2', aliases: ['challenger'] },
  { name: 'churn', version: '1', aliases: ['champion'] },
  { name: 'aardvark', version: '1', aliases: [] }
];

describe('model and alias choices', () => {
  it('groups versions by model, champion first, then other aliases, then versions newest first', () => {
    const choices = modelChoices(versions);
    expect(choices.map(c => c.name)).toEqual(['aardvark', 'churn']);
    expect(choices[1].refs.map(r => r.ref)).toEqual(['champion', 'challenger', '3', '2', '1']);
    expect(choices[1].refs[0].label).toBe('@champion (v1)');
    expect(choices[0].refs.map(r => r.ref)).toEqual(['1']);
    expect(modelChoices([])).toEqual([]);
  });

  it.each([
    ['churn-api', null],
    ['churn.v2_a', null],
    ['', /not valid/],
    ['-churn', /starting with a letter or digit/],
    ['churn api', /not valid/],
    ['x'.repeat(101), /1-100/]
  ])('checks the deployment name %j', (name, error) => {
    const found = deploymentNameError(name);
    if (error === null) {
      expect(found).toBeNull();
    } else {
      expect(found).toMatch(error);
    }
  });
});

describe('stage progress', () => {
  it('moves each stage pending -> running -> done, with its seconds', () => {
    let rows = initialStages();
    expect(rows.map(r => r.stage)).toEqual(DEPLOY_STAGES.map(([s]) => s));
    rows = applyStageEvent(rows, { stage: 'resolve', state: 'start', seconds: null });
    expect(rows[0].state).toBe('running');
    rows = applyStageEvent(rows, { stage: 'resolve', state: 'done', seconds: 0.12 });
    expect(rows[0]).toMatchObject({ state: 'done', seconds: 0.12 });
    expect(stageProgress(rows)).toEqual({ done: 1, total: 7 });
  });

  it('inserts the GPU-only TensorRT stage right after parity', () => {
    const rows = applyStageEvent(initialStages(), { stage: 'tensorrt_parity', state: 'start', seconds: null });
    expect(rows.map(r => r.stage).slice(2, 4)).toEqual(['parity', 'tensorrt_parity']);
    expect(rows[3]).toMatchObject({ label: 'TensorRT parity check (GPU)', state: 'running' });
    expect(stageProgress(rows).total).toBe(8);
  });

  it('fills every stage from a finished deployment when the server did not stream', () => {
    const seconds = Object.fromEntries(DEPLOY_STAGES.map(([s], i) => [s, i / 10]));
    const rows = stagesFromResult(initialStages(), { name: 'd', model_name: 'm', model_version: '1', status: 'ready', stage_seconds: seconds });
    expect(rows.every(r => r.state === 'done')).toBe(true);
    expect(rows[3].seconds).toBe(0.3);
  });

  it('marks the running stage failed, else the first pending one, never two', () => {
    const running = applyStageEvent(initialStages(), { stage: 'resolve', state: 'done', seconds: 0.1 });
    const started = applyStageEvent(running, { stage: 'load_and_export', state: 'start', seconds: null });
    expect(markFailure(started)[1].state).toBe('failed');
    expect(markFailure(initialStages())[0].state).toBe('failed');
    const failed = applyStageEvent(started, { stage: 'load_and_export', state: 'failed', seconds: 2 });
    expect(markFailure(failed).filter(r => r.state === 'failed')).toHaveLength(1);
  });
});

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      // Split mid-event: the parser must wait for the rest.
      controller.enqueue(bytes.slice(0, 25));
      controller.enqueue(bytes.slice(25));
      controller.close();
    }
  });
}

describe('deploy stream', () => {
  it('reports stage events then returns the deployment', async () => {
    const seen: string[] = [];
    const body =
      'event: stage\ndata: {"stage":"resolve","state":"start","seconds":null}\n\n' +
      'event: stage\ndata: {"stage":"resolve","state":"done","seconds":0.5}\n\n' +
      'event: deployment\ndata: {"name":"churn","model_name":"churn","model_version":"1","status":"ready"}\n\n';
    const d = await readDeployStream(streamOf(body), e => seen.push(`${e.stage}:${e.state}`));
    expect(seen).toEqual(['resolve:start', 'resolve:done']);
    expect(d.name).toBe('churn');
  });

  it('turns an error event into an ApiError with the server message', async () => {
    const body = 'event: stage\ndata: {"stage":"parity","state":"failed","seconds":1}\n\nevent: error\ndata: {"error":{"code":"operation_failed","message":"parity 0.3 > 1e-5"}}\n\n';
    await expect(readDeployStream(streamOf(body), () => undefined)).rejects.toThrow(/parity 0.3/);
  });

  it('says so when the stream ends without a deployment', async () => {
    const error = await readDeployStream(streamOf('event: stage\ndata: {"stage":"resolve","state":"start","seconds":null}\n\n'), () => undefined).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/ended before the deployment/);
  });
});

describe('deploy and chips render inert and complete', () => {
  it('shows a stage table with progress and escapes model text', () => {
    const rows = applyStageEvent(initialStages(), { stage: 'resolve', state: 'done', seconds: 0.2 });
    const html = renderToStaticMarkup(
      <>
        <StageTable rows={rows} />
        <DeployResult deployment={{ name: XSS, model_name: XSS, model_version: '1', status: 'ready', parity_max_abs_diff: 1e-7 }} />
        <ModelList versions={[{ name: XSS, version: '1', aliases: [XSS], metrics: { auc: 0.91 } }]} onDeploy={() => undefined} />
      </>
    );
    expect(html).toContain('value="1" max="7"');
    expect(html).toContain('data-state="done"');
    expect(html).toContain('auc=0.910');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
  });

  it('draws one chip per tag, flags an invalid one with the bridge message, and escapes tag text', () => {
    const html = renderToStaticMarkup(<CellTagChips tags={['step:load', 'stpe:x', XSS]} cell={4} steps={() => []} onChange={() => undefined} />);
    expect(html.match(/data-testid="shipyard-tagchip"/g)).toHaveLength(3);
    expect(html).toContain('jp-shipyard-tagchip-invalid');
    expect(html).toContain('cell 4: unknown tag');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
  });
});
