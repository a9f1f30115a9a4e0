// Connection to the Shipyard server: settings, token in SecretStorage, status bar, actionable errors.
import * as vscode from "vscode";
import { ShipyardApiError, ShipyardClient } from "./api";
import { connectionTooltip, projectName, serverCommandLine } from "./localServer";

const TOKEN_KEY = "shipyard.token";

/** Owns the client for the configured server and the status-bar item showing the connection state. */
export class Connection implements vscode.Disposable {
  readonly statusItem: vscode.StatusBarItem;
  private serverTerminal: vscode.Terminal | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = "Shipyard";
    this.statusItem.text = "$(sync~spin) Shipyard";
    this.statusItem.show();
  }

  get serverUrl(): string {
    return vscode.workspace.getConfiguration("shipyard").get<string>("serverUrl", "http://127.0.0.1:8765");
  }

  /** A client for the configured server with the stored token. */
  async client(): Promise<ShipyardClient> {
    return new ShipyardClient(this.serverUrl, await this.context.secrets.get(TOKEN_KEY));
  }

  /** Check the server and the token, and show the result in the status bar. */
  async refreshStatus(): Promise<boolean> {
    const client = await this.client();
    try {
      const health = await client.health();
      if (!(await this.context.secrets.get(TOKEN_KEY))) {
        this.setStatus("$(key) Shipyard: sign in", "Connected, but no token: run 'Shipyard: Sign In'", "shipyard.signIn");
        return false;
      }
      const me = await client.whoami();
      const host = this.serverUrl.replace(/^https?:\/\//, "");
      this.setStatus(
        `$(rocket) Shipyard ${health.version} · ${me.project}`,
        connectionTooltip(host, me, await this.folderProject()),
        "shipyard.browseFeatures",
      );
      return true;
    } catch (err) {
      const kind = err instanceof ShipyardApiError ? err.kind : "server";
      if (kind === "unreachable") {
        this.setStatus("$(debug-disconnect) Shipyard: offline", String((err as Error).message), "shipyard.startServer");
      } else if (kind === "unauthorized" || kind === "forbidden") {
        this.setStatus("$(key) Shipyard: sign in", String((err as Error).message), "shipyard.signIn");
      } else {
        this.setStatus("$(warning) Shipyard", String((err as Error).message), undefined);
      }
      return false;
    }
  }

  /** The open folder's project (`[project] name` in its shipyard.toml), if it is a Shipyard workspace. */
  private async folderProject(): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      return undefined;
    }
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, "shipyard.toml"));
      return projectName(new TextDecoder().decode(bytes));
    } catch {
      return undefined; // not a Shipyard workspace folder
    }
  }

  private setStatus(text: string, tooltip: string, command: string | undefined): void {
    this.statusItem.text = text;
    this.statusItem.tooltip = tooltip;
    this.statusItem.command = command;
  }

  /** Ask for a token (input box), check it against the server, store it in SecretStorage. */
  async signIn(): Promise<void> {
    const token = await vscode.window.showInputBox({
      title: "Shipyard: Sign In",
      prompt: `API token for ${this.serverUrl} (from 'shipyard init' or 'shipyard token create')`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : "paste a token, e.g. shp_…"),
    });
    if (!token) {
      return;
    }
    await this.context.secrets.store(TOKEN_KEY, token.trim());
    try {
      await (await this.client()).whoami();
      void vscode.window.showInformationMessage(`Shipyard: signed in to ${this.serverUrl}.`);
    } catch (err) {
      await this.report(err);
    }
    await this.refreshStatus();
  }

  /** Run `shipyard server` for the open folder in a terminal and wait until it answers. */
  async startServer(): Promise<void> {
    const client = await this.client();
    try {
      await client.health();
      void vscode.window.showInformationMessage(`Shipyard: a server is already running at ${this.serverUrl}.`);
      return;
    } catch {
      // not running: start it below
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showErrorMessage("Shipyard: open the workspace folder (the one with shipyard.toml) first.");
      return;
    }
    const config = vscode.workspace.getConfiguration("shipyard");
    let line: string;
    try {
      line = serverCommandLine(
        config.get<string>("shipyardPath", "shipyard"),
        folder.uri.fsPath,
        this.serverUrl,
        config.get<string[]>("serverArgs", []),
        process.platform === "win32",
      );
    } catch (err) {
      const pick = await vscode.window.showErrorMessage(`Shipyard: ${(err as Error).message}`, "Open Settings");
      if (pick) {
        await vscode.commands.executeCommand("workbench.action.openSettings", "shipyard.serverUrl");
      }
      return;
    }
    this.serverTerminal?.dispose();
    this.serverTerminal = vscode.window.createTerminal({ name: "Shipyard server", cwd: folder.uri.fsPath });
    this.serverTerminal.sendText(line);
    this.serverTerminal.show(true);
    this.setStatus("$(sync~spin) Shipyard: starting…", `Starting: ${line}`, undefined);
    const up = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Shipyard: starting the local server…" },
      async () => {
        for (let i = 0; i < 120; i++) {
          try {
            await client.health();
            return true;
          } catch {
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
        return false;
      },
    );
    if (!up) {
      void vscode.window.showErrorMessage("Shipyard: the server did not answer within 2 minutes; see the 'Shipyard server' terminal.");
    }
    await this.refreshStatus();
  }

  /** Show an error as a notification with the action that fixes it. */
  async report(err: unknown): Promise<void> {
    if (!(err instanceof ShipyardApiError)) {
      void vscode.window.showErrorMessage(`Shipyard: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (err.kind === "not_available") {
      void vscode.window.showWarningMessage(`Shipyard: ${err.message}`);
      return;
    }
    const actions: Record<string, string> = {};
    if (err.kind === "unreachable") {
      actions["Start Local Server"] = "shipyard.startServer";
      actions["Open Settings"] = "workbench.action.openSettings";
    } else if (err.kind === "unauthorized" || err.kind === "forbidden") {
      actions["Sign In"] = "shipyard.signIn";
    }
    const picked = await vscode.window.showErrorMessage(`Shipyard: ${err.message}`, ...Object.keys(actions));
    if (picked) {
      const cmd = actions[picked];
      await vscode.commands.executeCommand(cmd, ...(cmd === "workbench.action.openSettings" ? ["shipyard.serverUrl"] : []));
    }
    if (err.kind === "unreachable" || err.kind === "unauthorized") {
      await this.refreshStatus();
    }
  }

  dispose(): void {
    this.statusItem.dispose();
  }
}
