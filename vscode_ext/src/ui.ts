// Small editor helpers shared by the commands.
import * as vscode from "vscode";

/** Open a read-only-looking JSON document beside the current editor. */
export async function showJson(value: unknown): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: "json", content: JSON.stringify(value, null, 2) });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

/** Insert code as a new cell below the active notebook cell, at the cursor of a text editor, or copy it. */
export async function insertCode(code: string): Promise<void> {
  const nb = vscode.window.activeNotebookEditor;
  if (nb) {
    const at = nb.selections[0]?.end ?? nb.notebook.cellCount;
    const edit = new vscode.WorkspaceEdit();
    const cell = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, code, "python");
    edit.set(nb.notebook.uri, [vscode.NotebookEdit.insertCells(at, [cell])]);
    await vscode.workspace.applyEdit(edit);
    return;
  }
  const editor = vscode.window.activeTextEditor;
  if (editor) {
    await editor.edit((b) => b.insert(editor.selection.active, `${code}\n`));
    return;
  }
  await vscode.env.clipboard.writeText(code);
  void vscode.window.showInformationMessage("Shipyard: no editor is open; the code is on the clipboard.");
}
