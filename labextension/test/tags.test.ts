import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { addTag, describeTag, editTag, removeTag, stepNames, validateCellTags } from '../src/tags';

// The same table tests/unit/jupyter_ext/test_tag_chip_grammar.py checks the bridge against.
const table = JSON.parse(readFileSync(new URL('./fixtures/tag_cases.json', import.meta.url), 'utf8')) as {
  cell: number;
  cases: { tags: string[]; error: string | null }[];
};

describe('tag validation matches the bridge', () => {
  it.each(table.cases.map(c => [c.tags.join(' '), c] as const))('%s', (_, c) => {
    expect(validateCellTags(c.tags, table.cell)).toBe(c.error);
  });
});

describe('chips', () => {
  it.each([
    ['step:load', 'step', 'step: load', true],
    ['after:a, b', 'after', 'after: a, b', true],
    ['pipeline-parameters', 'role', 'pipeline-parameters (parameters)', true],
    ['limit:nvidia.com/gpu:1', 'limit', 'limit: nvidia.com/gpu=1', true],
    ['hide-input', 'other', 'hide-input', false],
    ['https://x.org', 'other', 'https://x.org', false]
  ])('labels %s', (tag, kind, label, pipeline) => {
    const chip = describeTag(tag);
    expect([chip.kind, chip.label, chip.pipeline, chip.error]).toEqual([kind, label, pipeline, null]);
  });

  it('marks a malformed tag with the message for its cell', () => {
    expect(describeTag('stpe:x', 7).error).toMatch(/^cell 7: unknown tag 'stpe:x'/);
  });
});

describe('editing', () => {
  it('adds a valid tag, ignores a duplicate and refuses an invalid one unchanged', () => {
    expect(addTag(['step:load'], ' after:prep ', 2)).toEqual({ tags: ['step:load', 'after:prep'], error: null });
    expect(addTag(['step:load'], 'step:load', 2)).toEqual({ tags: ['step:load'], error: null });
    const bad = addTag(['step:load'], 'parameters', 2);
    expect(bad.tags).toEqual(['step:load']);
    expect(bad.error).toBe("cell 2: tags 'step:load' and 'parameters' give one cell two roles; keep one");
    expect(addTag([], '   ', 2).error).toMatch(/Type a tag first/);
  });

  it('edits in place, refuses a bad edit, and an empty edit removes', () => {
    expect(editTag(['step:a', 'after:x'], 0, 'step:b', 1).tags).toEqual(['step:b', 'after:x']);
    const bad = editTag(['step:a'], 0, 'step:2', 1);
    expect(bad.tags).toEqual(['step:a']);
    expect(bad.error).toMatch(/step name '2' must start with a letter/);
    expect(editTag(['step:a', 'skip'], 1, '', 1).tags).toEqual(['step:a']);
  });

  it('removes by position', () => {
    expect(removeTag(['a', 'b', 'c'], 1)).toEqual({ tags: ['a', 'c'], error: null });
  });

  it('collects the notebook step names for after: suggestions', () => {
    expect(stepNames([['step:load'], [], ['block:train', 'after:load'], ['step:load'], ['step:9bad']])).toEqual(['load', 'train']);
  });
});
