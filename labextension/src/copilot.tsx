/** Copilot side panel: ask, stream the answer, cite catalog assets as chips that open their details. */

import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { ShipyardClient } from './api';
import { AssetDetails } from './asset';
import { ApiError, describeError } from './errors';
import { citationLabel } from './format';
import { CatalogAsset, Citation } from './models';

export interface Exchange {
  question: string;
  answer: string;
  citations: Citation[];
  error?: string;
  pending?: boolean;
}

/** The answer text: a React text node in a pre-wrapped block, so markup in it stays text. */
export function AnswerView(props: { exchange: Exchange; onCite: (citation: Citation) => void }): JSX.Element {
  const { exchange } = props;
  return (
    <div className="jp-shipyard-exchange">
      <div className="jp-shipyard-question">{exchange.question}</div>
      {exchange.error ? (
        <div className="jp-shipyard-error" role="alert">
          {exchange.error}
        </div>
      ) : (
        <div className="jp-shipyard-answer" data-testid="shipyard-answer">
          {exchange.answer || (exchange.pending ? 'Thinking…' : '')}
        </div>
      )}
      <CitationChips citations={exchange.citations} onCite={props.onCite} />
    </div>
  );
}

export function CitationChips(props: { citations: Citation[]; onCite: (citation: Citation) => void }): JSX.Element | null {
  if (!props.citations.length) {
    return null;
  }
  return (
    <div className="jp-shipyard-chips">
      {props.citations.map((citation, i) => (
        <button
          key={`${citation.kind}:${citation.name}:${citation.column ?? ''}:${i}`}
          className="jp-shipyard-chip"
          data-testid="shipyard-citation"
          title={citation.snippet ?? ''}
          onClick={() => props.onCite(citation)}
        >
          {citationLabel(citation)}
        </button>
      ))}
    </div>
  );
}

export interface CopilotProps {
  client: ShipyardClient;
  workspaceKey: () => string;
  selectedCells: () => string | null;
  insertCode: (code: string) => void;
  stream: () => boolean;
  historySize: () => number;
}

function loadHistory(key: string): Exchange[] {
  try {
    const raw = window.localStorage.getItem(key);
    const parsed = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? parsed.filter(e => e && typeof e.question === 'string') : [];
  } catch {
    return [];
  }
}

function CopilotView(props: CopilotProps): JSX.Element {
  const storageKey = `shipyard:copilot:${props.workspaceKey()}`;
  const [history, setHistory] = React.useState<Exchange[]>(() => loadHistory(storageKey));
  const [question, setQuestion] = React.useState('');
  const [includeCells, setIncludeCells] = React.useState(false);
  const [busy, setBusy] = React.useState(false);
  const [unavailable, setUnavailable] = React.useState<string | null>(null);
  const [asset, setAsset] = React.useState<CatalogAsset | null>(null);
  const [assetError, setAssetError] = React.useState<string | null>(null);
  const logRef = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => {
    const keep = history.filter(e => !e.pending).slice(-props.historySize());
    window.localStorage.setItem(storageKey, JSON.stringify(keep));
    logRef.current?.scrollTo?.({ top: logRef.current.scrollHeight });
  }, [history]);

  const update = (index: number, change: Partial<Exchange>) =>
    setHistory(current => current.map((e, i) => (i === index ? { ...e, ...change } : e)));

  const ask = async (text: string) => {
    const q = text.trim();
    if (!q || busy) {
      return;
    }
    const context = includeCells ? props.selectedCells() : null;
    const index = history.length;
    setHistory(current => [...current, { question: q, answer: '', citations: [], pending: true }]);
    setQuestion('');
    setBusy(true);
    let streamed = '';
    try {
      const onToken = props.stream()
        ? (piece: string) => {
            streamed += piece;
            update(index, { answer: streamed });
          }
        : undefined;
      const answer = await props.client.ask(q, context, onToken);
      update(index, { answer: answer.answer, citations: answer.citations ?? [], pending: false });
      setUnavailable(null);
    } catch (error) {
      if (error instanceof ApiError && error.unavailable) {
        setUnavailable(error.message);
      }
      update(index, { error: describeError(error), pending: false });
    } finally {
      setBusy(false);
    }
  };

  const openCitation = async (citation: Citation) => {
    setAssetError(null);
    try {
      setAsset(await props.client.asset(citation.kind, citation.name));
    } catch (error) {
      setAsset(null);
      setAssetError(describeError(error));
    }
  };

  return (
    <div className="jp-shipyard-panel jp-shipyard-copilot" data-testid="shipyard-copilot">
      <div className="jp-shipyard-title">Shipyard Copilot</div>
      {unavailable && (
        <div className="jp-shipyard-unavailable" data-testid="shipyard-copilot-unavailable" role="status">
          {unavailable} Ask your admin to enable the Shipyard copilot on this server; the feature browser and the
          other panels work without it.{' '}
          <button className="jp-shipyard-link" onClick={() => void ask(history[history.length - 1]?.question ?? '')}>
            Retry
          </button>
        </div>
      )}
      <div className="jp-shipyard-log" ref={logRef}>
        {history.length === 0 && <div className="jp-shipyard-muted">Ask where data lives, e.g. "where is the cleaned transaction history with refund flags?"</div>}
        {history.map((exchange, i) => (
          <AnswerView key={i} exchange={exchange} onCite={c => void openCitation(c)} />
        ))}
      </div>
      {assetError && (
        <div className="jp-shipyard-error" role="alert">
          {assetError}
        </div>
      )}
      {asset && <AssetDetails asset={asset} onInsert={props.insertCode} onClose={() => setAsset(null)} />}
      <form
        className="jp-shipyard-ask"
        onSubmit={e => {
          e.preventDefault();
          void ask(question);
        }}
      >
        <textarea
          className="jp-shipyard-input"
          data-testid="shipyard-question"
          placeholder="Ask about data, features, models…"
          value={question}
          onChange={e => setQuestion(e.target.value)}
          onKeyDown={e => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void ask(question);
            }
          }}
        />
        <div className="jp-shipyard-row">
          <label>
            <input type="checkbox" checked={includeCells} onChange={e => setIncludeCells(e.target.checked)} /> include selected cells
          </label>
          <button type="button" className="jp-shipyard-link" onClick={() => setHistory([])}>
            Clear
          </button>
          <button type="submit" className="jp-mod-styled jp-mod-accept" data-testid="shipyard-ask" disabled={busy}>
            {busy ? 'Asking…' : 'Ask'}
          </button>
        </div>
      </form>
    </div>
  );
}

export class CopilotPanel extends ReactWidget {
  constructor(private readonly props: CopilotProps) {
    super();
    this.id = 'shipyard-copilot';
    this.addClass('jp-shipyard-widget');
  }

  render(): JSX.Element {
    return <CopilotView {...this.props} />;
  }
}
