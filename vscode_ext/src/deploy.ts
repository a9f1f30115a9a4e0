// "Deploy Model" (quick picks -> deployment with progress) and "Show Monitoring" (webview tables).
import * as vscode from "vscode";
import type { Connection } from "./connection";
import { type Fetched, display, monitoringSections } from "./monitoring";
import { stageMessage, stageSummary } from "./models";
import { makeNonce, tablesHtml } from "./webview";
import { modelNames, modelRefs } from "./models";

async function deployModel(conn: Connection): Promise<void> {
  try {
    const client = await conn.client();
    const models = await client.models();
    if (models.length === 0) {
      void vscode.window.showWarningMessage("Shipyard: no registered models yet; train one (e.g. run the churn pipeline) first.");
      return;
    }
    const model = await vscode.window.showQuickPick(modelNames(models), { title: "Shipyard: Deploy Model (1/3) — registered model" });
    if (!model) {
      return;
    }
    const ref = await vscode.window.showQuickPick(modelRefs(models, model), { title: `Deploy ${model} (2/3) — version or alias` });
    if (!ref) {
      return;
    }
    const name = await vscode.window.showInputBox({
      title: `Deploy ${model}@${ref.ref} (3/3) — deployment name`,
      value: model,
      validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(v) ? undefined : "letters, digits, _ . and -"),
    });
    if (!name) {
      return;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Shipyard: deploying ${model}@${ref.ref} as '${name}'`, cancellable: false },
      async (progress) => {
        progress.report({ message: "resolve, export, parity check, serve, smoke test, record…" });
        return client.deploy(model, ref.ref, name, (s) => progress.report({ message: stageMessage(s) }));
      },
    );
    const stages = stageSummary(result.stage_seconds);
    void vscode.window.showInformationMessage(
      `Shipyard: deployed '${display(result.name ?? name)}' (${display(result.status ?? "ready")})${stages ? `: ${stages}` : ""}.`,
    );
  } catch (err) {
    await conn.report(err);
  }
}

async function showMonitoring(conn: Connection): Promise<void> {
  try {
    const client = await conn.client();
    const deployments = await client.deployments();
    const names = deployments.map((d) => display(d.name));
    if (names.length === 0) {
      void vscode.window.showWarningMessage("Shipyard: no deployments yet; run 'Shipyard: Deploy Model' first.");
      return;
    }
    const name = await vscode.window.showQuickPick(names, { title: "Shipyard: Show Monitoring — deployment" });
    if (!name) {
      return;
    }
    const panel = vscode.window.createWebviewPanel("shipyard.monitoring", `Monitoring: ${name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [],
    });
    panel.webview.html = tablesHtml(`Monitoring: ${name}`, panel.webview.cspSource, makeNonce());
    // One failing part (e.g. drift before any traffic) shows its error in its own section.
    const settle = (p: Promise<Record<string, unknown>>): Promise<Fetched> =>
      p.catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
    const [status, latency, drift] = await Promise.all([settle(client.monitorStatus(name)), settle(client.latency(name)), settle(client.drift(name))]);
    await panel.webview.postMessage({ type: "data", sections: monitoringSections(status, latency, drift) });
  } catch (err) {
    await conn.report(err);
  }
}

/** Register "Deploy Model" and "Show Monitoring". */
export function registerDeploy(context: vscode.ExtensionContext, conn: Connection): void {
  context.subscriptions.push(
    vscode.commands.registerCommand("shipyard.deployModel", () => deployModel(conn)),
    vscode.commands.registerCommand("shipyard.showMonitoring", () => showMonitoring(conn)),
  );
}
