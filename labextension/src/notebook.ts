/** The active notebook: insert code below the active cell, read the selected cells and the content. */

import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

/** Insert ``code`` as a new code cell below the active one; false when no notebook is open. */
export function insertCode(tracker: INotebookTracker, code: string): boolean {
  const panel = tracker.currentWidget;
  if (!panel) {
    return false;
  }
  const notebook = panel.content;
  NotebookActions.insertBelow(notebook);
  NotebookActions.changeCellType(notebook, 'code');
  notebook.activeCell?.model.sharedModel.setSource(code);
  return true;
}

/** Ids of the selected cells (the active cell when nothing else is selected). */
export function selectedCellIds(panel: NotebookPanel): string[] {
  const notebook = panel.content;
  return notebook.widgets.filter(cell => notebook.isSelectedOrActive(cell)).map(cell => cell.model.id);
}

/** The source of the selected cells, as copilot context. */
export function selectedSource(tracker: INotebookTracker): string | null {
  const panel = tracker.currentWidget;
  if (!panel) {
    return null;
  }
  const notebook = panel.content;
  const text = notebook.widgets
    .filter(cell => notebook.isSelectedOrActive(cell))
    .map(cell => cell.model.sharedModel.getSource())
    .join('\n\n');
  return text.trim() ? text : null;
}
