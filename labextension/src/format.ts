/** Pure formatting for the panels: preview tables, DAG layout, citation labels and code to insert. */

import { Citation, CatalogAsset, FeatureViewDetail, PromotePreview } from './models';

export const PIPELINE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** What to tag when a notebook has nothing to promote (the dialog shows it instead of an empty table). */
export const TAGGING_HINT =
  'No tagged cells to promote. Tag the first cell of each step with "step:NAME" (the "+ tag" chip above ' +
  'each cell), add "after:A,B" for its upstream steps, and tag a cell "parameters" for the pipeline ' +
  'parameters; untagged cells join the step above.';

export interface StepRow {
  name: string;
  cells: string;
  after: string;
  parameters: string;
  resources: string;
}

export interface PreviewView {
  rows: StepRow[];
  edges: string[];
  parameters: [string, string][];
  warnings: string[];
  empty: boolean;
  hint: string | null;
}

/** Compress cell numbers into ranges: [1,2,3,5] -> "1-3, 5". */
export function cellRanges(cells: number[]): string {
  const sorted = [...cells].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) {
      j++;
    }
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** A parameter value as a short, single-line literal. */
export function literal(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

function pairs(record: Record<string, unknown> | undefined): string {
  return Object.entries(record ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : literal(v)}`)
    .join(', ');
}

/** The promote preview as table rows, edge lines, parameters and warnings. */
export function formatPreview(preview: PromotePreview): PreviewView {
  const rows = preview.steps.map(step => ({
    name: step.name,
    cells: cellRanges(step.cells),
    after: step.after.join(', ') || '—',
    parameters: Object.keys(step.parameters ?? {}).join(', ') || '—',
    resources: pairs(step.resources) || '—'
  }));
  const empty = rows.length === 0;
  return {
    rows,
    edges: (preview.edges ?? []).map(([from, to]) => `${from} → ${to}`),
    parameters: Object.entries(preview.parameters ?? {}).map(([k, v]) => [k, literal(v)]),
    warnings: preview.warnings ?? [],
    empty,
    hint: empty ? TAGGING_HINT : null
  };
}

export interface DagNode {
  name: string;
  x: number;
  y: number;
}

export interface DagLayout {
  nodes: DagNode[];
  edges: { from: DagNode; to: DagNode }[];
  width: number;
  height: number;
}

/** Layered layout for the small DAG drawing: a step's column is one past its deepest upstream step. */
export function layoutDag(preview: PromotePreview, boxW = 120, boxH = 28, gapX = 40, gapY = 14): DagLayout {
  const upstream = new Map<string, Set<string>>();
  for (const step of preview.steps) {
    upstream.set(step.name, new Set(step.after));
  }
  for (const [from, to] of preview.edges ?? []) {
    if (upstream.has(to)) {
      upstream.get(to)!.add(from);
    }
  }
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (name: string): number => {
    if (depth.has(name)) {
      return depth.get(name)!;
    }
    if (visiting.has(name)) {
      return 0; // a cycle is reported by the server as a warning; draw it flat
    }
    visiting.add(name);
    let d = 0;
    for (const up of upstream.get(name) ?? []) {
      if (upstream.has(up)) {
        d = Math.max(d, depthOf(up) + 1);
      }
    }
    visiting.delete(name);
    depth.set(name, d);
    return d;
  };
  const rowsInColumn = new Map<number, number>();
  const nodes = new Map<string, DagNode>();
  for (const step of preview.steps) {
    const column = depthOf(step.name);
    const row = rowsInColumn.get(column) ?? 0;
    rowsInColumn.set(column, row + 1);
    nodes.set(step.name, { name: step.name, x: column * (boxW + gapX), y: row * (boxH + gapY) });
  }
  const edges: { from: DagNode; to: DagNode }[] = [];
  for (const [to, ups] of upstream) {
    for (const from of ups) {
      if (nodes.has(from) && nodes.has(to)) {
        edges.push({ from: nodes.get(from)!, to: nodes.get(to)! });
      }
    }
  }
  const columns = Math.max(0, ...[...depth.values()].map(d => d + 1));
  const rows = Math.max(0, ...rowsInColumn.values());
  return {
    nodes: [...nodes.values()],
    edges,
    width: Math.max(0, columns * (boxW + gapX) - gapX),
    height: Math.max(0, rows * (boxH + gapY) - gapY)
  };
}

/** A pipeline name from a notebook path ("notebooks/Train Churn.ipynb" -> "train-churn"). */
export function pipelineNameFor(path: string): string {
  const base = (path.split('/').pop() ?? 'pipeline').replace(/\.ipynb$/i, '');
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 100);
  return PIPELINE_NAME_PATTERN.test(slug) ? slug : 'pipeline';
}

/** The chip text of a citation: "table sales.tx · refund_flag". */
export function citationLabel(citation: Citation): string {
  // A column asset's name already ends with the column ("sales.tx.refund_flag"): say it once.
  const named = citation.column && citation.name.endsWith(`.${citation.column}`);
  const column = citation.column && !named ? ` · ${citation.column}` : '';
  return `${citation.kind} ${citation.name}${column}`;
}

/** A Python string literal for any text (JSON's escapes are valid Python). */
export function pyString(text: string): string {
  return JSON.stringify(text);
}

/** Code that loads a catalog asset in the notebook, by its kind. */
export function assetLoadCode(asset: CatalogAsset): string {
  const name = pyString(asset.name);
  if (asset.kind === 'feature_view' || asset.kind === 'feature') {
    const view = asset.name.split(':')[0];
    return featureShowCode(view);
  }
  const source = asset.source ?? '';
  if (/\.parquet$/i.test(source)) {
    return `import pandas as pd\n\ndf = pd.read_parquet(${pyString(source)})  # catalog asset ${name}\ndf.head()`;
  }
  if (/\.csv$/i.test(source)) {
    return `import pandas as pd\n\ndf = pd.read_csv(${pyString(source)})  # catalog asset ${name}\ndf.head()`;
  }
  if (asset.kind === 'model') {
    return `import mlflow\n\nmodel = mlflow.pyfunc.load_model(${pyString(`models:/${asset.name}`)})`;
  }
  // No generic loader for this kind: say where it lives, as a comment (one line, so nothing executes).
  const where = source ? ` from ${source}` : '';
  return `# ${asset.kind} ${asset.name}${where}`.replace(/[\r\n]+/g, ' ');
}

/** `%feature show VIEW` for a view name. */
export function featureShowCode(view: string): string {
  return `%feature show ${view.replace(/\s+/g, '')}`;
}

/** `%feature get` for the features of a view, with an entity placeholder per join key. */
export function featureGetCode(detail: FeatureViewDetail, refs?: string[]): string {
  const chosen = refs && refs.length ? refs : detail.features.map(f => f.ref);
  const entities = (detail.join_keys.length ? detail.join_keys : detail.entities).map(k => `--entity ${k}=VALUE`);
  return `%load_ext shipyard\n%feature get ${chosen.join(' ')} ${entities.join(' ')}`.trim();
}

/** Point-in-time training data for the features of a view (Feast through Shipyard). */
export function trainingFrameCode(detail: FeatureViewDetail, refs?: string[]): string {
  const chosen = refs && refs.length ? refs : detail.features.map(f => f.ref);
  const keys = detail.join_keys.length ? detail.join_keys : detail.entities;
  const columns = [...keys.map(k => `    ${pyString(k)}: [...],`), '    "event_timestamp": [...],'];
  return [
    'import pandas as pd',
    'import shipyard.features',
    '',
    'entity_df = pd.DataFrame({',
    ...columns,
    '})',
    `training_df = shipyard.features.training_frame(entity_df, [${chosen.map(pyString).join(', ')}])`,
    'training_df.head()'
  ].join('\n');
}

/** Format a number of seconds for the run table. */
export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '—';
  }
  return value < 10 ? `${value.toFixed(2)} s` : `${value.toFixed(1)} s`;
}

/** Truncate very long text for a one-line cell (the full text stays in the title attribute). */
export function clip(text: string, max = 160): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
