/** Details of a catalog asset (a citation's target): columns, owner, lineage, "insert code to load it". */

import * as React from 'react';

import { assetLoadCode } from './format';
import { CatalogAsset, LineageEdge } from './models';

/** One line per lineage edge; "part_of" edges (a column of this table) are already the column table. */
export function lineageLines(asset: CatalogAsset): string[] {
  return lineageEdges(asset)
    .filter(({ edge }) => edge.relation !== 'part_of')
    .map(({ direction, edge }) => {
      if (edge.src_name !== undefined || edge.dst_name !== undefined) {
        return `${edge.src_kind ?? ''} ${edge.src_name ?? ''} ${edge.relation ?? '→'} ${edge.dst_kind ?? ''} ${edge.dst_name ?? ''}`.trim();
      }
      return `${direction ? `${direction}: ` : ''}${String(edge.kind ?? '')} ${String(edge.name ?? JSON.stringify(edge))}`.trim();
    });
}

function lineageEdges(asset: CatalogAsset): { direction: string; edge: LineageEdge }[] {
  const lineage = asset.lineage;
  if (!lineage) {
    return [];
  }
  if (Array.isArray(lineage)) {
    return lineage.map(edge => ({ direction: String(edge.direction ?? ''), edge }));
  }
  return [
    ...(lineage.upstream ?? []).map(edge => ({ direction: 'upstream', edge })),
    ...(lineage.downstream ?? []).map(edge => ({ direction: 'downstream', edge }))
  ];
}

export interface AssetDetailsProps {
  asset: CatalogAsset;
  onInsert: (code: string) => void;
  onClose?: () => void;
}

/** Every text here comes from the catalog: rendered as React text nodes, never as HTML. */
export function AssetDetails(props: AssetDetailsProps): JSX.Element {
  const { asset } = props;
  const lines = lineageLines(asset);
  return (
    <div className="jp-shipyard-asset" data-testid="shipyard-asset-details">
      <div className="jp-shipyard-asset-head">
        <span className="jp-shipyard-kind">{asset.kind}</span>
        <strong className="jp-shipyard-asset-name">{asset.name}</strong>
        {props.onClose && (
          <button className="jp-shipyard-link" onClick={props.onClose} title="Close details">
            ×
          </button>
        )}
      </div>
      {asset.title && <div className="jp-shipyard-asset-title">{asset.title}</div>}
      {asset.description && <p className="jp-shipyard-description">{asset.description}</p>}
      <dl className="jp-shipyard-facts">
        {asset.owner && (
          <>
            <dt>Owner</dt>
            <dd>{asset.owner}</dd>
          </>
        )}
        {asset.source && (
          <>
            <dt>Source</dt>
            <dd>{asset.source}</dd>
          </>
        )}
        {(asset.freshness || asset.updated_at) && (
          <>
            <dt>Freshness</dt>
            <dd>{asset.freshness ?? asset.updated_at}</dd>
          </>
        )}
        {asset.tags && asset.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{asset.tags.join(', ')}</dd>
          </>
        )}
      </dl>
      {asset.columns && asset.columns.length > 0 && (
        <table className="jp-shipyard-table">
          <thead>
            <tr>
              <th>Column</th>
              <th>Type</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {asset.columns.map(column => (
              <tr key={column.name}>
                <td>
                  {column.name}
                  {column.sensitive ? ' 🔒' : ''}
                </td>
                <td>{column.type ?? ''}</td>
                <td>{column.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {lines.length > 0 && (
        <div className="jp-shipyard-lineage">
          <div className="jp-shipyard-subhead">Lineage</div>
          <ul>
            {lines.map((line, i) => (
              <li key={i}>{line}</li>
            ))}
          </ul>
        </div>
      )}
      <button className="jp-mod-styled jp-mod-accept" data-testid="shipyard-insert-load" onClick={() => props.onInsert(assetLoadCode(asset))}>
        Insert code to load it
      </button>
    </div>
  );
}
