import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import { AssetDetails } from '../src/asset';
import { AnswerView } from '../src/copilot';
import { FeatureDetails } from '../src/features';
import { PreviewView } from '../src/promote';

const XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

describe('server text renders inert', () => {
  it('escapes markup in answers and citation chips', () => {
    const html = renderToStaticMarkup(
      <AnswerView
        exchange={{ question: XSS, answer: XSS, citations: [{ kind: 'table', name: XSS, column: XSS, snippet: XSS }] }}
        onCite={() => undefined}
      />
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;img src=x onerror=');
  });

  it('escapes markup in catalog asset details', () => {
    const html = renderToStaticMarkup(
      <AssetDetails
        asset={{ kind: 'table', name: XSS, title: XSS, description: XSS, owner: XSS, tags: [XSS], columns: [{ name: XSS, type: XSS, description: XSS }], lineage: [{ kind: XSS, name: XSS }] }}
        onInsert={() => undefined}
      />
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
  });

  it('escapes markup in feature details and promote warnings', () => {
    const feature = renderToStaticMarkup(
      <FeatureDetails
        detail={{ name: XSS, description: XSS, owner: XSS, tags: {}, entities: [XSS], join_keys: [], source: XSS, ttl_s: null, last_materialized: null, online: true, offline: true, features: [{ ref: 'v:f', name: XSS, dtype: XSS, description: XSS, tags: {} }] }}
        onInsert={() => undefined}
      />
    );
    const preview = renderToStaticMarkup(
      <PreviewView preview={{ name: 'p', path: 'p', steps: [{ name: XSS, cells: [1], after: [], parameters: {}, resources: {} }], warnings: [XSS], edges: [], parameters: { [XSS]: XSS } }} />
    );
    for (const html of [feature, preview]) {
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<script');
    }
  });
});

describe('lineage lines', () => {
  it('shows catalog edges and leaves out part_of (the column table has them)', async () => {
    const { lineageLines } = await import('../src/asset');
    const lines = lineageLines({
      kind: 'table',
      name: 'sales.tx',
      lineage: [
        { src_kind: 'column', src_name: 'sales.tx.id', dst_kind: 'table', dst_name: 'sales.tx', relation: 'part_of' },
        { src_kind: 'table', src_name: 'churn.snap', dst_kind: 'table', dst_name: 'sales.tx', relation: 'derived_from' }
      ]
    });
    expect(lines).toEqual(['table churn.snap derived_from table sales.tx']);
  });
});
