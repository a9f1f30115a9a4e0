import { describe, expect, it } from 'vitest';

import { errorFromResponse } from '../src/errors';
import { assetLoadCode, cellRanges, citationLabel, featureGetCode, formatPreview, layoutDag, pipelineNameFor, TAGGING_HINT, trainingFrameCode } from '../src/format';
import { driftRows, latencySeries } from '../src/monitor';
import { FeatureViewDetail, PromotePreview } from '../src/models';

const preview: PromotePreview = {
  name: 'churn',
  path: 'pipelines/churn',
  steps: [
    { name: 'load', cells: [2, 3, 4], after: [], parameters: { n: 10 }, resources: {} },
    { name: 'features', cells: [5], after: ['load'], parameters: {}, resources: { cpu: '2' } },
    { name: 'train', cells: [6, 8], after: ['features', 'load'], parameters: {}, resources: {} }
  ],
  warnings: ['cell 7 is skipped'],
  edges: [['load', 'features'], ['features', 'train'], ['load', 'train']],
  parameters: { n: 10, label: 'churned' }
};

describe('promote preview formatting', () => {
  it('builds rows, edges, parameters and warnings', () => {
    const view = formatPreview(preview);
    expect(view.rows.map(r => [r.name, r.cells, r.after])).toEqual([
      ['load', '2-4', '—'],
      ['features', '5', 'load'],
      ['train', '6, 8', 'features, load']
    ]);
    expect(view.rows[1].resources).toBe('cpu=2');
    expect(view.edges).toContain('load → features');
    expect(view.parameters).toEqual([['n', '10'], ['label', '"churned"']]);
    expect(view.warnings).toEqual(['cell 7 is skipped']);
    expect(view.empty).toBe(false);
  });

  it('explains what to tag when nothing is tagged', () => {
    const view = formatPreview({ ...preview, steps: [], edges: [] });
    expect(view.empty).toBe(true);
    expect(view.hint).toBe(TAGGING_HINT);
    expect(view.hint).toContain('step:NAME');
  });

  it('lays the DAG out in columns by depth, even with a cycle', () => {
    const layout = layoutDag(preview);
    const x = Object.fromEntries(layout.nodes.map(n => [n.name, n.x]));
    expect(x.load).toBeLessThan(x.features);
    expect(x.features).toBeLessThan(x.train);
    expect(layout.edges).toHaveLength(3);
    const cyclic = layoutDag({ ...preview, steps: [{ ...preview.steps[0], after: ['train'] }, ...preview.steps.slice(1)] });
    expect(cyclic.nodes).toHaveLength(3);
  });

  it('compresses cell ranges', () => {
    expect(cellRanges([5, 1, 2, 3, 9, 10])).toBe('1-3, 5, 9-10');
    expect(cellRanges([])).toBe('');
  });

  it.each([
    ['notebooks/Train Churn.ipynb', 'train-churn'],
    ['a/b/model_v2.ipynb', 'model_v2'],
    ['___.ipynb', 'pipeline']
  ])('names the pipeline after %s', (path, name) => {
    expect(pipelineNameFor(path)).toBe(name);
  });
});

const detail: FeatureViewDetail = {
  name: 'customer_stats',
  description: '',
  owner: 'growth',
  tags: {},
  entities: ['customer'],
  join_keys: ['customer_id'],
  source: 'data/customers.parquet',
  ttl_s: null,
  last_materialized: null,
  online: true,
  offline: true,
  features: [
    { ref: 'customer_stats:ltv_90d', name: 'ltv_90d', dtype: 'Float32', description: '', tags: {} },
    { ref: 'customer_stats:orders', name: 'orders', dtype: 'Int64', description: '', tags: {} }
  ]
};

describe('code to insert', () => {
  it('writes %feature get with the join keys', () => {
    expect(featureGetCode(detail)).toBe('%load_ext shipyard\n%feature get customer_stats:ltv_90d customer_stats:orders --entity customer_id=VALUE');
  });

  it('writes a training-frame call with quoted refs', () => {
    const code = trainingFrameCode(detail, ['customer_stats:ltv_90d']);
    expect(code).toContain('shipyard.features.training_frame(entity_df, ["customer_stats:ltv_90d"])');
    expect(code).toContain('"customer_id": [...]');
  });

  it('quotes catalog text so it cannot break out of the Python string or comment', () => {
    expect(assetLoadCode({ kind: 'table', name: 'x', source: 'data/"evil".parquet' })).toContain('pd.read_parquet("data/\\"evil\\".parquet")');
    const other = assetLoadCode({ kind: 'dashboard', name: 'd\nimport os; os.system("x")' });
    expect(other.split('\n')).toHaveLength(1);
    expect(other.startsWith('# ')).toBe(true);
  });

  it('labels citations with their column', () => {
    expect(citationLabel({ kind: 'table', name: 'sales.tx', column: 'refund_flag' })).toBe('table sales.tx · refund_flag');
    expect(citationLabel({ kind: 'column', name: 'sales.tx.refund_flag', column: 'refund_flag' })).toBe('column sales.tx.refund_flag');
  });
});

describe('error mapping', () => {
  const envelope = (code: string, message: string) => JSON.stringify({ error: { code, message, detail: null } });

  it.each([
    [401, envelope('unauthorized', 'invalid bearer token'), 'unauthorized', /log in again/],
    [403, envelope('forbidden', 'role viewer cannot deploy'), 'forbidden', /role viewer cannot deploy/],
    [404, envelope('not_found', 'Not Found'), 'unavailable', /not available on this server/],
    [404, envelope('not_found', 'no asset table x'), 'not_found', /no asset table x/],
    [503, envelope('no_workspace', 'no shipyard.toml at or above /x'), 'no_workspace', /shipyard.toml/],
    [422, envelope('invalid_input', 'name: bad'), 'bad_input', /name: bad/],
    [500, '<html>boom</html>', 'server', /failed \(500\)/]
  ])('maps %i to %s', (status, body, kind, message) => {
    const error = errorFromResponse(status, body, 'The copilot');
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(message);
  });
});

describe('monitoring', () => {
  it('sorts drifted features first', () => {
    const rows = driftRows({ features: { a: { method: 'psi', statistic: 0.05, drifted: false }, b: { method: 'ks', statistic: 0.01, drifted: true } } });
    expect(rows.map(r => r.feature)).toEqual(['b', 'a']);
  });

  it('builds latency series from windows', () => {
    const s = latencySeries({ windows: [{ start: 't0', p50_ms: 1, p95_ms: 3 }, { start: 't1', p50_ms: 2, p95_ms: 5 }] });
    expect(s.labels).toEqual(['t0', 't1']);
    expect(s.series.p95_ms).toEqual([3, 5]);
  });
});
