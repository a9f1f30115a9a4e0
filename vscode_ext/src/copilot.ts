// "Ask Copilot": a webview chat panel with streamed, cited answers rendered inertly.
import * as vscode from "vscode";
import { type Citation, ShipyardApiError } from "./api";
import type { Connection } from "./connection";
import { loadCodeFor } from "./notebook";
import { insertCode, showJson } from "./ui";
import { copilotHtml, makeNonce } from "./webview";

let panel: vscode.WebviewPanel | undefined;
let ready: Promise<void> = Promise.resolve();

function openPanel(conn: Connection): vscode.WebviewPanel {
  if (panel) {
    panel.reveal(vscode.ViewColumn.Beside, true);
    return panel;
  }
  const p = vscode.window.createWebviewPanel("shipyard.copilot", "Shipyard Copilot", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
    enableScripts: true,
    localResourceRoots: [],
    retainContextWhenHidden: true,
  });
  let markReady: () => void = () => undefined;
  ready = new Promise((r) => (markReady = r));
  p.webview.html = copilotHtml(p.webview.cspSource, makeNonce());
  p.webview.onDidReceiveMessage(async (m: { type: string; question?: string; citation?: Citation }) => {
    if (m.type === "ready") {
      markReady();
    } else if (m.type === "ask" && m.question) {
      await answer(conn, p, m.question, false);
    } else if (m.type === "open" && m.citation) {
      await openCitation(conn, m.citation);
    } else if (m.type === "insert" && m.citation) {
      await insertCode(loadCodeFor(m.citation));
    }
  });
  p.onDidDispose(() => (panel = undefined));
  panel = p;
  return p;
}

async function openCitation(conn: Connection, c: Citation): Promise<void> {
  const client = await conn.client();
  try {
    await showJson(await client.asset(c.kind, c.name));
  } catch (err) {
    if (err instanceof ShipyardApiError && err.kind === "not_available" && c.kind === "feature_view") {
      await showJson(await client.describeView(c.name));
      return;
    }
    await conn.report(err);
  }
}

function editorContext(): string {
  const nb = vscode.window.activeNotebookEditor;
  if (nb && nb.selections[0] && nb.selections[0].start < nb.notebook.cellCount) {
    return nb.notebook.cellAt(nb.selections[0].start).document.getText().slice(0, 20_000);
  }
  return vscode.window.activeTextEditor?.document.getText(vscode.window.activeTextEditor.selection).slice(0, 20_000) ?? "";
}

async function answer(conn: Connection, p: vscode.WebviewPanel, question: string, echo: boolean): Promise<void> {
  await ready;
  if (echo) {
    await p.webview.postMessage({ type: "question", question });
  }
  try {
    const client = await conn.client();
    const result = await client.askStream(question, editorContext(), (text) => void p.webview.postMessage({ type: "token", text }));
    await p.webview.postMessage({ type: "answer", answer: result });
  } catch (err) {
    const message =
      err instanceof ShipyardApiError && err.kind === "not_available"
        ? "The copilot is not available on this server (it has no /api/v1/copilot/ask route); update Shipyard."
        : err instanceof Error
          ? err.message
          : String(err);
    await p.webview.postMessage({ type: "error", message });
    if (err instanceof ShipyardApiError && err.kind !== "not_available" && err.kind !== "invalid") {
      await conn.report(err);
    }
  }
}

/** Register "Ask Copilot". */
export function registerCopilot(context: vscode.ExtensionContext, conn: Connection): void {
  context.subscriptions.push(
    vscode.commands.registerCommand("shipyard.askCopilot", async (question?: string) => {
      const q =
        question ??
        (await vscode.window.showInputBox({ title: "Shipyard: Ask Copilot", prompt: "A question about your data, features or models", ignoreFocusOut: true }));
      const p = openPanel(conn);
      if (q?.trim()) {
        await answer(conn, p, q.trim(), true);
      }
    }),
  );
}
