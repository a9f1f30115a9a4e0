// Entry point: wires the connection, views and commands; the logic lives in the other modules.
import * as vscode from "vscode";
import { Connection } from "./connection";
import { registerCopilot } from "./copilot";
import { registerDeploy } from "./deploy";
import { registerFeatures } from "./features";
import { registerPipelines } from "./pipelines";
import { trackEditors } from "./ui";

export function activate(context: vscode.ExtensionContext): void {
  const conn = new Connection(context);
  context.subscriptions.push(conn, trackEditors());
  const features = registerFeatures(context, conn);
  const pipelines = registerPipelines(context, conn);
  registerCopilot(context, conn);
  registerDeploy(context, conn);
  context.subscriptions.push(
    vscode.commands.registerCommand("shipyard.signIn", () => conn.signIn()),
    vscode.commands.registerCommand("shipyard.startServer", () => conn.startServer()),
    vscode.commands.registerCommand("shipyard.refresh", async () => {
      features.refresh();
      pipelines.refresh();
      await conn.refreshStatus();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("shipyard.serverUrl")) {
        void vscode.commands.executeCommand("shipyard.refresh");
      }
    }),
    context.secrets.onDidChange(() => void vscode.commands.executeCommand("shipyard.refresh")),
  );
  void conn.refreshStatus();
}

export function deactivate(): void {}
