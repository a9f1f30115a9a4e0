// Small editor helpers shared by the commands.
import * as vscode from "vscode";

// Clicking in a webview (the copilot's "insert load code") or a tree leaves no active editor, so the
// insert goes to the editor the user worked in last, if it is still open.
let lastNotebook: vscode.NotebookEditor | undefined;
let lastText: vscode.TextEditor | undefined;
let lastWasNotebook = false;

/** Remember the last notebook and file editors (call once on activation). */
export function trackEditors(): vscode.Disposable {
  lastNotebook = vscode.window.activeNotebookEditor;
  lastText = vscode.window.activeTextEditor;
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveNotebookEditor((e) => {
      if (e) {
        lastNotebook = e;
        lastWasNotebook = true;
      }
    }),
    vscode.window.onDidChangeActiveTextEditor((e) => {
      // Our JSON previews are untitled documents: not a place to insert code into.
      if (e && e.document.uri.scheme !== "untitled" && e.document.uri.scheme !== "vscode-notebook-cell") {
        lastText = e;
        lastWasNotebook = false;
      }
    }),
  );
}

/** Open a read-only-looking JSON document beside the current editor. */
export async function showJson(value: unknown): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: "json", content: JSON.stringify(value, null, 2) });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

/** The active notebook or text editor, else the one used last if it is still visible. */
function target(): { nb?: vscode.NotebookEditor; text?: vscode.TextEditor } {
  const nb = vscode.window.activeNotebookEditor;
  const text = vscode.window.activeTextEditor;
  if (nb || text) {
    return nb ? { nb } : { text };
  }
  const nbOpen = lastNotebook && vscode.window.visibleNotebookEditors.includes(lastNotebook) ? lastNotebook : undefined;
  const textOpen = lastText && vscode.window.visibleTextEditors.includes(lastText) ? lastText : undefined;
  return nbOpen && (lastWasNotebook || !textOpen) ? { nb: nbOpen } : { text: textOpen };
}

/** Insert code as a new cell below the selected notebook cell, at the cursor of a text editor, or copy it. */
export async function insertCode(code: string): Promise<void> {
  const { nb, text: editor } = target();
  if (nb) {
    const at = nb.selections[0]?.end ?? nb.notebook.cellCount;
    const edit = new vscode.WorkspaceEdit();
    const cell = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, code, "python");
    edit.set(nb.notebook.uri, [vscode.NotebookEdit.insertCells(at, [cell])]);
    if (await vscode.workspace.applyEdit(edit)) {
      const range = new vscode.NotebookRange(at, at + 1);
      nb.selections = [range];
      nb.revealRange(range, vscode.NotebookEditorRevealType.InCenterIfOutsideViewport);
    }
    return;
  }
  if (editor) {
    await editor.edit((b) => b.insert(editor.selection.active, `${code}\n`));
    return;
  }
  await vscode.env.clipboard.writeText(code);
  void vscode.window.showInformationMessage("Shipyard: no editor is open; the code is on the clipboard.");
}
