/** Cell tags as the bridge reads them (shipyard/bridge/tags.py): chip labels and the same validation rules. */

export const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESOURCE = /^[A-Za-z0-9][A-Za-z0-9_.\-/]*$/;
const QUANTITY = /^[0-9][0-9A-Za-z.]*$/;
// Tags like "https://..." or "jupyter:hide" come from other tools, not from a mistyped pipeline tag.
const URLISH = /^(https?|jupyter|nbsphinx|jupytext|colab|vscode)[:]/i;

const PLAIN: Record<string, string> = {
  imports: 'imports',
  functions: 'functions',
  parameters: 'parameters',
  'pipeline-parameters': 'parameters',
  metrics: 'metrics',
  'pipeline-metrics': 'metrics',
  skip: 'skip'
};

/** Tags other tools put on cells; the bridge ignores them without a warning. */
export const FOREIGN_TAGS = new Set([
  'injected-parameters',
  'hide-input',
  'hide-output',
  'hide-cell',
  'remove-cell',
  'remove-input',
  'remove-output',
  'raises-exception',
  'skip-execution',
  'thebe-init',
  'full-width',
  'margin'
]);

/** What the "add tag" box suggests (step names of the notebook are added as after:NAME). */
export const TAG_SUGGESTIONS = ['step:', 'after:', 'parameters', 'imports', 'functions', 'metrics', 'skip', 'limit:cpu:1', 'limit:nvidia.com/gpu:1'];

export type TagKind = 'role' | 'step' | 'after' | 'limit' | 'annotation' | 'label' | 'other';

export interface TagChip {
  tag: string;
  kind: TagKind;
  /** Short text on the chip: "step: load", "after: a, b", "parameters". */
  label: string;
  /** True for tags the bridge reads (pipeline tags); other tools' tags show muted. */
  pipeline: boolean;
  /** Why this tag alone is invalid (the bridge's message), or null. */
  error: string | null;
}

/** Python's repr of a str, for messages that match the bridge's word for word. */
export function pyRepr(text: string): string {
  if (text.includes("'") && !text.includes('"')) {
    return `"${text}"`;
  }
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function partition(text: string, sep: string): [string, boolean, string] {
  const i = text.indexOf(sep);
  return i === -1 ? [text, false, ''] : [text.slice(0, i), true, text.slice(i + sep.length)];
}

function rpartition(text: string, sep: string): [string, string] {
  const i = text.lastIndexOf(sep);
  return i === -1 ? ['', text] : [text.slice(0, i), text.slice(i + sep.length)];
}

function nameError(text: string, tag: string, cell: number): string | null {
  const name = text.trim();
  if (STEP_NAME.test(name)) {
    return null;
  }
  return `cell ${cell}: tag '${tag}': step name ${pyRepr(name)} must start with a letter or _ and hold only letters, digits and _`;
}

/** One tag as a chip, with the bridge's error for it when it is malformed. */
export function describeTag(raw: string, cell = 1): TagChip {
  const tag = raw.trim();
  const [prefix, sep, rest] = partition(tag, ':');
  const key = prefix.trim().toLowerCase();
  const chip = (kind: TagKind, label: string, error: string | null = null, pipeline = true): TagChip => ({ tag, kind, label, pipeline, error });
  if (!sep && key in PLAIN) {
    return chip('role', PLAIN[key] === key ? key : `${key} (${PLAIN[key]})`);
  }
  if (sep && (key === 'step' || key === 'block')) {
    return chip('step', `step: ${rest.trim()}`, nameError(rest, tag, cell));
  }
  if (sep && (key === 'after' || key === 'prev')) {
    const names = rest.split(',').map(n => n.trim());
    if (!names.every(Boolean)) {
      return chip('after', `after: ${rest}`, `cell ${cell}: tag '${tag}' has an empty step name; write after:STEP[,STEP...]`);
    }
    const bad = names.map(n => nameError(n, tag, cell)).find(e => e !== null) ?? null;
    return chip('after', `after: ${names.join(', ')}`, bad);
  }
  if (sep && key === 'limit') {
    const [resource, quantity] = rpartition(rest, ':');
    const ok = RESOURCE.test(resource.trim()) && QUANTITY.test(quantity.trim());
    return chip('limit', `limit: ${resource.trim()}=${quantity.trim()}`, ok ? null : `cell ${cell}: tag '${tag}' is not limit:RESOURCE:QUANTITY (e.g. limit:nvidia.com/gpu:1)`);
  }
  if (sep && (key === 'annotation' || key === 'label')) {
    const [k, colon, v] = partition(rest, ':');
    const ok = Boolean(k.trim()) && colon;
    return chip(key, `${key}: ${k.trim()}=${v.trim()}`, ok ? null : `cell ${cell}: tag '${tag}' is not ${key}:KEY:VALUE`);
  }
  if (['step', 'block', 'after', 'prev', 'limit'].includes(key)) {
    return chip('other', tag, `cell ${cell}: tag '${tag}' needs a value, e.g. '${key}:NAME'`);
  }
  if (sep && !URLISH.test(tag)) {
    const known = 'step:, block:, after:, prev:, limit:, annotation:, label:';
    return chip(
      'other',
      tag,
      `cell ${cell}: unknown tag '${tag}': '${prefix}:' is not a pipeline tag prefix (known: ${known}); fix the typo or remove the tag`
    );
  }
  return chip('other', tag, null, false);
}

function roleOf(chip: TagChip): string | null {
  if (chip.kind === 'step') {
    return 'step';
  }
  if (chip.kind === 'role') {
    return PLAIN[chip.tag.trim().toLowerCase()];
  }
  return null;
}

/** The bridge's verdict on one cell's tags: its error message, or null when the bridge accepts them. */
export function validateCellTags(tags: string[], cell: number): string | null {
  let step: string | null = null;
  const roles = new Map<string, string>();
  for (const raw of tags) {
    if (!raw.trim()) {
      continue;
    }
    const chip = describeTag(raw, cell);
    if (chip.error) {
      return chip.error;
    }
    if (chip.kind === 'step') {
      const name = partition(chip.tag, ':')[2].trim();
      if (step !== null && step !== name) {
        return `cell ${cell}: tags 'step:${step}' and '${chip.tag}' put one cell in two steps; keep one`;
      }
      step = name;
    }
    const role = roleOf(chip);
    if (role && !roles.has(role)) {
      roles.set(role, chip.tag);
    }
  }
  if (roles.size > 1) {
    return `cell ${cell}: tags ${[...roles.values()].map(t => `'${t}'`).join(' and ')} give one cell two roles; keep one`;
  }
  return null;
}

export interface TagEdit {
  tags: string[];
  error: string | null;
}

/** Tags after adding ``tag`` (trimmed; a duplicate is a no-op), or the bridge's error and the tags unchanged. */
export function addTag(tags: string[], tag: string, cell: number): TagEdit {
  const clean = tag.trim();
  if (!clean) {
    return { tags, error: 'Type a tag first, e.g. step:load, after:load, parameters or skip.' };
  }
  if (tags.includes(clean)) {
    return { tags, error: null };
  }
  return checked(tags, [...tags, clean], cell);
}

/** Tags with the one at ``index`` replaced by ``tag`` (empty removes it), or the error and the tags unchanged. */
export function editTag(tags: string[], index: number, tag: string, cell: number): TagEdit {
  const clean = tag.trim();
  if (!clean) {
    return removeTag(tags, index);
  }
  const next = tags.map((t, i) => (i === index ? clean : t)).filter((t, i, all) => all.indexOf(t) === i);
  return checked(tags, next, cell);
}

/** Tags without the one at ``index`` (removing never makes a cell invalid). */
export function removeTag(tags: string[], index: number): TagEdit {
  return { tags: tags.filter((_, i) => i !== index), error: null };
}

function checked(before: string[], after: string[], cell: number): TagEdit {
  const error = validateCellTags(after, cell);
  return error ? { tags: before, error } : { tags: after, error: null };
}

/** Step names declared in a notebook's cells' tags, in order (for after:NAME suggestions). */
export function stepNames(cellsTags: string[][]): string[] {
  const names: string[] = [];
  for (const tags of cellsTags) {
    for (const tag of tags) {
      const chip = describeTag(tag);
      if (chip.kind === 'step' && !chip.error) {
        const name = partition(chip.tag, ':')[2].trim();
        if (!names.includes(name)) {
          names.push(name);
        }
      }
    }
  }
  return names;
}
