/** Per-cell tag chips (like Kale's): the cell's Shipyard tags with add / edit / remove, checked as the bridge does. */

import { ReactWidget } from '@jupyterlab/apputils';
import type { Cell, ICellModel } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { PanelLayout } from '@lumino/widgets';
import * as React from 'react';

import { addTag, describeTag, editTag, removeTag, stepNames, TAG_SUGGESTIONS, TagEdit, validateCellTags } from './tags';

export const CHIPS_CLASS = 'jp-shipyard-celltags';

function tagsOf(model: ICellModel): string[] {
  const tags = model.getMetadata('tags');
  return Array.isArray(tags) ? tags.map(String) : [];
}

export interface ChipsProps {
  tags: string[];
  cell: number;
  /** Step names of the notebook, read when the add box opens (for after:NAME suggestions). */
  steps: () => string[];
  onChange: (tags: string[]) => void;
}

/** The chips of one cell and its add / edit box; a change the bridge would refuse is shown, not written. */
export function CellTagChips(props: ChipsProps): JSX.Element {
  const [draft, setDraft] = React.useState<string | null>(null);
  const [editing, setEditing] = React.useState<number | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const listId = React.useMemo(() => `jp-shipyard-tag-options-${Math.random().toString(36).slice(2)}`, []);
  const current = validateCellTags(props.tags, props.cell);

  const apply = (edit: TagEdit) => {
    setError(edit.error);
    if (!edit.error) {
      setDraft(null);
      setEditing(null);
      if (edit.tags.join('\u0000') !== props.tags.join('\u0000')) {
        props.onChange(edit.tags);
      }
    }
  };
  const commit = () => {
    if (draft === null) {
      return;
    }
    apply(editing === null ? addTag(props.tags, draft, props.cell) : editTag(props.tags, editing, draft, props.cell));
  };
  const cancel = () => {
    setDraft(null);
    setEditing(null);
    setError(null);
  };
  const suggestions = draft === null ? [] : [...TAG_SUGGESTIONS, ...props.steps().map(s => `after:${s}`)];

  return (
    <div className="jp-shipyard-celltags-row" data-testid="shipyard-celltags">
      {props.tags.map((tag, i) => {
        const chip = describeTag(tag, props.cell);
        const classes = ['jp-shipyard-tagchip', chip.pipeline ? `jp-shipyard-tagchip-${chip.kind}` : 'jp-shipyard-tagchip-foreign'];
        if (chip.error) {
          classes.push('jp-shipyard-tagchip-invalid');
        }
        return (
          <span key={`${i}-${tag}`} className={classes.join(' ')} title={chip.error ?? tag} data-testid="shipyard-tagchip" data-tag={tag}>
            <button
              className="jp-shipyard-tagchip-label"
              title="Edit this tag"
              onClick={() => {
                setEditing(i);
                setDraft(tag);
                setError(null);
              }}
            >
              {chip.label}
            </button>
            <button className="jp-shipyard-tagchip-remove" aria-label={`Remove tag ${tag}`} data-testid="shipyard-tagchip-remove" onClick={() => apply(removeTag(props.tags, i))}>
              ×
            </button>
          </span>
        );
      })}
      {draft === null ? (
        <button
          className="jp-shipyard-tagchip-add"
          data-testid="shipyard-tag-add"
          title="Add a pipeline tag: step:NAME, after:A,B, parameters, imports, functions, metrics, skip, limit:RESOURCE:N"
          onClick={() => {
            setDraft('');
            setEditing(null);
            setError(null);
          }}
        >
          + tag
        </button>
      ) : (
        <span className="jp-shipyard-tag-editor">
          <input
            className="jp-shipyard-tag-input"
            data-testid="shipyard-tag-input"
            autoFocus
            list={listId}
            value={draft}
            placeholder="step:NAME, after:A,B, parameters, skip…"
            onChange={e => setDraft(e.target.value)}
            onKeyDown={e => {
              // Keep Enter/Escape from reaching the notebook's keyboard shortcuts.
              e.stopPropagation();
              if (e.key === 'Enter') {
                commit();
              } else if (e.key === 'Escape') {
                cancel();
              }
            }}
          />
          <datalist id={listId}>
            {suggestions.map(s => (
              <option key={s} value={s} />
            ))}
          </datalist>
          <button className="jp-shipyard-link" data-testid="shipyard-tag-save" onClick={commit}>
            {editing === null ? 'Add' : 'Save'}
          </button>
          <button className="jp-shipyard-link" onClick={cancel}>
            Cancel
          </button>
        </span>
      )}
      {(error ?? current) && (
        <div className="jp-shipyard-error jp-shipyard-tag-error" role="alert" data-testid="shipyard-tag-error">
          {error ?? current}
        </div>
      )}
    </div>
  );
}

/** The chips above one cell's input; redrawn when the cell's metadata (its tags) changes. */
export class CellTagsWidget extends ReactWidget {
  constructor(
    private readonly cell: Cell,
    private readonly context: { number: () => number; steps: () => string[] }
  ) {
    super();
    this.addClass(CHIPS_CLASS);
    cell.model.metadataChanged.connect(this.onMetadata, this);
  }

  private onMetadata(): void {
    this.update();
  }

  dispose(): void {
    if (!this.isDisposed && !this.cell.isDisposed) {
      this.cell.model.metadataChanged.disconnect(this.onMetadata, this);
    }
    super.dispose();
  }

  render(): JSX.Element {
    return (
      <CellTagChips
        tags={tagsOf(this.cell.model)}
        cell={this.context.number()}
        steps={this.context.steps}
        onChange={tags => {
          if (tags.length) {
            this.cell.model.setMetadata('tags', tags);
          } else {
            this.cell.model.deleteMetadata('tags');
          }
        }}
      />
    );
  }
}

/** Put tag chips on every cell of a notebook panel, now and as cells are added; ``enabled`` hides them all. */
export function attachCellTags(panel: NotebookPanel, enabled: () => boolean): () => void {
  const attached = new WeakMap<Cell, CellTagsWidget>();
  const notebook = panel.content;
  const steps = () => stepNames(notebook.widgets.map(c => tagsOf(c.model)));
  const sync = () => {
    if (panel.isDisposed) {
      return;
    }
    const show = enabled();
    notebook.widgets.forEach(cell => {
      let chips = attached.get(cell);
      if (!chips || chips.isDisposed) {
        if (!show) {
          return;
        }
        chips = new CellTagsWidget(cell, { number: () => notebook.widgets.indexOf(cell) + 1, steps });
        // Above the input, below the cell header: where Kale shows its chips.
        (cell.layout as PanelLayout).insertWidget(1, chips);
        attached.set(cell, chips);
      }
      chips.setHidden(!show);
      chips.update();
    });
  };
  const later = () => requestAnimationFrame(sync);
  notebook.model?.cells.changed.connect(later);
  notebook.modelChanged.connect(() => {
    notebook.model?.cells.changed.connect(later);
    later();
  });
  void panel.context.ready.then(later);
  later();
  return sync;
}
