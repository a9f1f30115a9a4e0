/** Feature browser (left sidebar): search, filter, details with stats and lineage, insert code. */

import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { ShipyardClient } from './api';
import { describeError } from './errors';
import { clip, featureGetCode, trainingFrameCode } from './format';
import { FeatureMatch, FeatureViewDetail } from './models';

interface ViewSummary {
  name: string;
  entities: string[];
  features: string[];
}

export interface FeatureBrowserProps {
  client: ShipyardClient;
  insertCode: (code: string) => void;
}

/** Keep hits whose owner, tags or view entities contain the filter text. */
export function filterMatches(matches: FeatureMatch[], filter: string, views: ViewSummary[]): FeatureMatch[] {
  const needle = filter.trim().toLowerCase();
  if (!needle) {
    return matches;
  }
  const entities = new Map(views.map(v => [v.name, v.entities.join(' ').toLowerCase()]));
  return matches.filter(m =>
    [m.owner, m.tags.join(' '), entities.get(m.feature_view) ?? ''].some(text => text.toLowerCase().includes(needle))
  );
}

function stat(stats: Record<string, unknown> | null | undefined): string {
  if (!stats) {
    return '';
  }
  return Object.entries(stats)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, 5)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
    .join(' ');
}

export function FeatureDetails(props: { detail: FeatureViewDetail; onInsert: (code: string) => void }): JSX.Element {
  const { detail } = props;
  return (
    <div className="jp-shipyard-asset" data-testid="shipyard-feature-details">
      <div className="jp-shipyard-asset-head">
        <span className="jp-shipyard-kind">feature view</span>
        <strong>{detail.name}</strong>
      </div>
      {detail.description && <p className="jp-shipyard-description">{detail.description}</p>}
      <dl className="jp-shipyard-facts">
        <dt>Owner</dt>
        <dd>{detail.owner || '—'}</dd>
        <dt>Entities</dt>
        <dd>{detail.entities.join(', ') || '—'}</dd>
        <dt>Source</dt>
        <dd>{detail.source}</dd>
        <dt>Freshness</dt>
        <dd>{detail.last_materialized ? `materialized ${detail.last_materialized}` : 'not materialized'}</dd>
        <dt>Stores</dt>
        <dd>{[detail.online ? 'online' : '', detail.offline ? 'offline' : ''].filter(Boolean).join(', ') || '—'}</dd>
      </dl>
      <table className="jp-shipyard-table">
        <thead>
          <tr>
            <th>Feature</th>
            <th>Type</th>
            <th>Description</th>
            <th>Stats</th>
          </tr>
        </thead>
        <tbody>
          {detail.features.map(f => (
            <tr key={f.ref}>
              <td>{f.name}</td>
              <td>{f.dtype}</td>
              <td>{f.description}</td>
              <td>{stat(f.stats as Record<string, unknown> | null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {((detail.used_by ?? []).length > 0 || (detail.feature_services ?? []).length > 0) && (
        <div className="jp-shipyard-lineage">
          <div className="jp-shipyard-subhead">Lineage</div>
          <ul>
            {(detail.feature_services ?? []).map(s => (
              <li key={`fs:${s}`}>feature service {s}</li>
            ))}
            {(detail.used_by ?? []).map((u, i) => (
              <li key={`u:${i}`}>used by {Object.values(u).join(' ')}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="jp-shipyard-row">
        <button className="jp-mod-styled" data-testid="shipyard-insert-feature-get" onClick={() => props.onInsert(featureGetCode(detail))}>
          Insert %feature get
        </button>
        <button className="jp-mod-styled" data-testid="shipyard-insert-training-frame" onClick={() => props.onInsert(trainingFrameCode(detail))}>
          Insert training frame
        </button>
      </div>
    </div>
  );
}

function FeatureBrowserView(props: FeatureBrowserProps): JSX.Element {
  const [query, setQuery] = React.useState('');
  const [filter, setFilter] = React.useState('');
  const [views, setViews] = React.useState<ViewSummary[]>([]);
  const [matches, setMatches] = React.useState<FeatureMatch[] | null>(null);
  const [detail, setDetail] = React.useState<FeatureViewDetail | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);

  const loadViews = async () => {
    setLoading(true);
    setError(null);
    try {
      setViews((await props.client.json<ViewSummary[]>('features/views', 'Feature views')) ?? []);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  };
  React.useEffect(() => {
    void loadViews();
  }, []);

  const search = async () => {
    setLoading(true);
    setError(null);
    try {
      setMatches(query.trim() ? await props.client.searchFeatures(query.trim()) : null);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  };

  const open = async (name: string) => {
    setError(null);
    try {
      setDetail(await props.client.featureView(name));
    } catch (e) {
      setError(describeError(e));
    }
  };

  const shown: FeatureMatch[] =
    matches === null
      ? views.map(v => ({ kind: 'feature_view', name: v.name, feature_view: v.name, description: v.features.join(', '), owner: '', tags: [], score: 0 }))
      : matches;
  const filtered = filterMatches(shown, filter, views);
  return (
    <div className="jp-shipyard-panel" data-testid="shipyard-features">
      <div className="jp-shipyard-title">Features</div>
      <form
        className="jp-shipyard-row"
        onSubmit={e => {
          e.preventDefault();
          void search();
        }}
      >
        <input className="jp-shipyard-input" data-testid="shipyard-feature-query" placeholder="Search features (e.g. ltv)" value={query} onChange={e => setQuery(e.target.value)} />
        <button type="submit" className="jp-mod-styled" data-testid="shipyard-feature-search">
          Search
        </button>
      </form>
      <input className="jp-shipyard-input" placeholder="Filter by entity, owner or tag" value={filter} onChange={e => setFilter(e.target.value)} />
      {loading && <div className="jp-shipyard-muted">Loading…</div>}
      {error && (
        <div className="jp-shipyard-error" role="alert">
          {error}{' '}
          <button className="jp-shipyard-link" onClick={() => void (matches === null ? loadViews() : search())}>
            Retry
          </button>
        </div>
      )}
      <ul className="jp-shipyard-list">
        {filtered.map(m => (
          <li key={`${m.kind}:${m.name}`}>
            <button className="jp-shipyard-item" data-testid="shipyard-feature-hit" title={m.description} onClick={() => void open(m.feature_view || m.name)}>
              <span className="jp-shipyard-kind">{m.kind === 'feature_view' ? 'view' : 'feature'}</span> {m.name}
              {m.description && <span className="jp-shipyard-muted"> — {clip(m.description, 80)}</span>}
            </button>
          </li>
        ))}
        {!loading && !error && filtered.length === 0 && <li className="jp-shipyard-muted">No features match.</li>}
      </ul>
      {detail && <FeatureDetails detail={detail} onInsert={props.insertCode} />}
    </div>
  );
}

export class FeatureBrowser extends ReactWidget {
  constructor(private readonly props: FeatureBrowserProps) {
    super();
    this.id = 'shipyard-features';
    this.addClass('jp-shipyard-widget');
  }

  render(): JSX.Element {
    return <FeatureBrowserView {...this.props} />;
  }
}
