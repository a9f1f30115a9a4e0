// Promote notebook cells to a pipeline, edit cell tags, run pipelines and list their runs.
import * as vscode from "vscode";
import type { Connection } from "./connection";
import { display } from "./monitoring";
import { showJson } from "./ui";
import {
  type CellInfo,
  type TagEdit,
  applyTagEdit,
  cellRanges,
  defaultPipelineName,
  previewLines,
  stepNameError,
  tagsOf,
  taggedCellCount,
  toNbformat,
  withTags,
} from "./notebook";

function notebookEditor(): vscode.NotebookEditor | undefined {
  const nb = vscode.window.activeNotebookEditor;
  if (!nb || !nb.notebook.uri.path.endsWith(".ipynb")) {
    void vscode.window.showErrorMessage("Shipyard: open a .ipynb notebook in the notebook editor first (this command works on its cells).");
    return undefined;
  }
  return nb;
}

function cellInfo(cell: vscode.NotebookCell): CellInfo {
  return {
    kind: cell.kind === vscode.NotebookCellKind.Code ? "code" : "markdown",
    source: cell.document.getText(),
    metadata: { ...cell.metadata },
  };
}

function selectedIndices(nb: vscode.NotebookEditor): number[] {
  const out: number[] = [];
  for (const r of nb.selections) {
    for (let i = r.start; i < r.end; i++) {
      out.push(i);
    }
  }
  return out;
}

async function promote(conn: Connection, selectedOnly: boolean): Promise<void> {
  const nb = notebookEditor();
  if (!nb) {
    return;
  }
  const cells = nb.notebook.getCells().map(cellInfo);
  if (taggedCellCount(cells) === 0) {
    const pick = await vscode.window.showErrorMessage(
      "Shipyard: no cell is tagged 'step:NAME', so there is nothing to promote. Tag the cells that make up each step.",
      "Edit Cell Tags",
    );
    if (pick) {
      await vscode.commands.executeCommand("shipyard.editCellTags");
    }
    return;
  }
  const ranges = selectedOnly ? cellRanges(selectedIndices(nb)) : undefined;
  if (selectedOnly && (!ranges || ranges.length === 0)) {
    void vscode.window.showErrorMessage("Shipyard: select the cells to promote first (shift-click in the notebook).");
    return;
  }
  const name = await vscode.window.showInputBox({
    title: "Shipyard: pipeline name",
    value: defaultPipelineName(nb.notebook.metadata, nb.notebook.uri.path),
    validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(v) ? undefined : "letters, digits, _ and -, starting with a letter or digit"),
  });
  if (!name) {
    return;
  }
  try {
    const request = { content: toNbformat(cells, nb.notebook.metadata), name, cells: ranges };
    const client = await conn.client();
    const preview = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Shipyard: previewing the pipeline…" },
      () => client.previewPromotion(request),
    );
    const create = { label: "$(check) Create pipeline", description: `${preview.steps.length} steps → ${name}`, create: true };
    const items = [create, ...previewLines(preview).map((l) => ({ ...l, create: false }))];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Promote to pipeline '${name}': ${preview.diff?.new === false ? "updates the existing pipeline" : "new pipeline"}`,
      placeHolder: "Review the steps, then pick 'Create pipeline'",
      ignoreFocusOut: true,
    });
    if (!picked?.create) {
      return;
    }
    const created = await client.promote(request);
    const action = await vscode.window.showInformationMessage(
      `Shipyard: pipeline '${created.name}' created with ${created.steps.length} steps.`,
      "Run Now",
      "Open definitions.py",
    );
    if (action === "Run Now") {
      await runPipeline(conn, created.name);
    } else if (action === "Open definitions.py") {
      await vscode.window.showTextDocument(vscode.Uri.file(`${created.path}/definitions.py`));
    }
  } catch (err) {
    await conn.report(err);
  }
}

async function editTags(): Promise<void> {
  const nb = notebookEditor();
  if (!nb) {
    return;
  }
  const indices = selectedIndices(nb);
  if (indices.length === 0) {
    void vscode.window.showErrorMessage("Shipyard: select one or more cells first.");
    return;
  }
  const current = tagsOf(nb.notebook.cellAt(indices[0]).metadata);
  const choice = await vscode.window.showQuickPick(
    [
      { label: "step:NAME", description: "this cell belongs to step NAME", tag: "step" as const },
      { label: "after:STEPS", description: "run after these steps (comma-separated)", tag: "after" as const },
      { label: "parameters", description: "toggle: the pipeline's parameters cell", tag: "parameters" as const },
      { label: "skip", description: "toggle: leave this cell out of the pipeline", tag: "skip" as const },
      { label: "clear", description: "remove the Shipyard tags", tag: "clear" as const },
    ],
    { title: `Shipyard: Edit Cell Tags (now: ${current.join(", ") || "none"})` },
  );
  if (!choice) {
    return;
  }
  let edit: TagEdit;
  if (choice.tag === "step" || choice.tag === "after") {
    const value = await vscode.window.showInputBox({
      title: choice.tag === "step" ? "Step name" : "Upstream steps (comma-separated)",
      value: (current.find((t) => t.startsWith(`${choice.tag}:`)) ?? "").split(":")[1] ?? "",
      validateInput: (v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map(stepNameError)
          .find(Boolean),
    });
    if (value === undefined) {
      return;
    }
    const steps = value.split(",").map((s) => s.trim()).filter(Boolean);
    edit = choice.tag === "step" ? { kind: "step", name: steps[0] ?? "" } : { kind: "after", steps };
  } else {
    edit = { kind: choice.tag };
  }
  try {
    const wsEdit = new vscode.WorkspaceEdit();
    const edits = indices.map((i) => {
      const cell = nb.notebook.cellAt(i);
      return vscode.NotebookEdit.updateCellMetadata(i, withTags(cell.metadata, applyTagEdit(tagsOf(cell.metadata), edit)));
    });
    wsEdit.set(nb.notebook.uri, edits);
    await vscode.workspace.applyEdit(wsEdit);
  } catch (err) {
    void vscode.window.showErrorMessage(`Shipyard: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function runPipeline(conn: Connection, name?: string): Promise<void> {
  try {
    const client = await conn.client();
    const chosen = name ?? (await vscode.window.showQuickPick(await client.pipelines(), { title: "Shipyard: Run Pipeline" }));
    if (!chosen) {
      return;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Shipyard: running pipeline '${chosen}'…` },
      () => client.runPipeline(chosen),
    );
    void vscode.window.showInformationMessage(`Shipyard: pipeline '${chosen}' finished: ${display(result.status ?? "done")}.`);
    await vscode.commands.executeCommand("shipyard.refresh");
  } catch (err) {
    await conn.report(err);
  }
}

const RUN_ICONS: Record<string, string> = { succeeded: "pass", success: "pass", failed: "error", running: "sync~spin" };

class PipelineItem extends vscode.TreeItem {
  constructor(
    readonly pipeline: string,
    readonly run?: Record<string, unknown>,
  ) {
    super(
      run ? display(run.run_id ?? "run") : pipeline,
      run ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Collapsed,
    );
    this.contextValue = run ? "run" : "pipeline";
    if (run) {
      const steps = Array.isArray(run.steps) ? ` · ${run.steps.length} steps` : "";
      this.description = `${display(run.status)}${steps}`;
      this.tooltip = `${pipeline} run ${display(run.run_id)}: ${display(run.status)}`;
      this.iconPath = new vscode.ThemeIcon(RUN_ICONS[display(run.status)] ?? "circle-outline");
      this.command = { command: "shipyard.showRunDetails", title: "Show Run Details", arguments: [run] };
    } else {
      this.iconPath = new vscode.ThemeIcon("type-hierarchy");
    }
  }
}

class PipelinesTree implements vscode.TreeDataProvider<PipelineItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly conn: Connection) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: PipelineItem): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: PipelineItem): Promise<PipelineItem[]> {
    try {
      const client = await this.conn.client();
      if (!item) {
        return (await client.pipelines()).map((p) => new PipelineItem(p));
      }
      return item.run ? [] : (await client.runs(item.pipeline)).map((r) => new PipelineItem(item.pipeline, r));
    } catch (err) {
      void this.conn.report(err);
      return [];
    }
  }
}

/** Register promote, tag, run and runs-tree commands. */
export function registerPipelines(context: vscode.ExtensionContext, conn: Connection): { refresh(): void } {
  const tree = new PipelinesTree(conn);
  context.subscriptions.push(
    vscode.window.createTreeView("shipyard.pipelines", { treeDataProvider: tree }),
    vscode.commands.registerCommand("shipyard.promoteSelectedCells", () => promote(conn, true)),
    vscode.commands.registerCommand("shipyard.promoteNotebook", () => promote(conn, false)),
    vscode.commands.registerCommand("shipyard.editCellTags", editTags),
    vscode.commands.registerCommand("shipyard.runPipeline", (item?: PipelineItem) => runPipeline(conn, item?.pipeline)),
    vscode.commands.registerCommand("shipyard.showRunDetails", (run: Record<string, unknown>) => showJson(run)),
    vscode.commands.registerCommand("shipyard.showPipelineRuns", async () => {
      tree.refresh();
      await vscode.commands.executeCommand("shipyard.pipelines.focus");
    }),
  );
  return tree;
}
