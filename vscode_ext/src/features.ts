// "Browse Features": a tree of feature views -> features, with search, details and `%feature get`.
import * as vscode from "vscode";
import type { FeatureView } from "./api";
import type { Connection } from "./connection";
import { featureGetSnippet, filterViews } from "./notebook";
import { insertCode, showJson } from "./ui";

export class FeatureItem extends vscode.TreeItem {
  constructor(
    readonly view: FeatureView,
    readonly feature?: string,
  ) {
    super(feature ?? view.name, feature ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Expanded);
    this.contextValue = feature ? "feature" : "view";
    this.description = feature ? undefined : `${view.features.length} features · ${view.entities.join(", ")}`;
    this.iconPath = new vscode.ThemeIcon(feature ? "symbol-field" : "database");
    this.command = { command: "shipyard.featureDetails", title: "Details", arguments: [this] };
  }
}

export class FeaturesTree implements vscode.TreeDataProvider<FeatureItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  query = "";
  private views: FeatureView[] | undefined;

  constructor(private readonly conn: Connection) {}

  refresh(): void {
    this.views = undefined;
    this.changed.fire();
  }

  setQuery(q: string): void {
    this.query = q;
    this.changed.fire();
  }

  getTreeItem(item: FeatureItem): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: FeatureItem): Promise<FeatureItem[]> {
    if (item) {
      return item.feature ? [] : item.view.features.map((f) => new FeatureItem(item.view, f));
    }
    if (!this.views) {
      try {
        this.views = await (await this.conn.client()).featureViews();
      } catch (err) {
        void this.conn.report(err);
        return [];
      }
    }
    return filterViews(this.views, this.query).map((v) => new FeatureItem(v));
  }
}

/** Register the features view and its commands. */
export function registerFeatures(context: vscode.ExtensionContext, conn: Connection): FeaturesTree {
  const tree = new FeaturesTree(conn);
  const view = vscode.window.createTreeView("shipyard.features", { treeDataProvider: tree, showCollapseAll: true });
  context.subscriptions.push(
    view,
    vscode.commands.registerCommand("shipyard.browseFeatures", async () => {
      tree.refresh();
      await vscode.commands.executeCommand("shipyard.features.focus");
    }),
    vscode.commands.registerCommand("shipyard.searchFeatures", async () => {
      const q = await vscode.window.showInputBox({ title: "Shipyard: Search Features", value: tree.query, prompt: "words in view or feature names (empty: all)" });
      if (q !== undefined) {
        tree.setQuery(q);
        view.message = q ? `Filtered by "${q}"` : undefined;
        await vscode.commands.executeCommand("shipyard.features.focus");
      }
    }),
    vscode.commands.registerCommand("shipyard.featureDetails", async (item?: FeatureItem) => {
      if (!item) {
        return;
      }
      try {
        const detail = await (await conn.client()).describeView(item.view.name);
        const features = detail.features as { name: string }[] | undefined;
        const shown = item.feature && Array.isArray(features) ? { ...detail, features: features.filter((f) => f.name === item.feature) } : detail;
        await showJson(shown);
      } catch (err) {
        await conn.report(err);
      }
    }),
    vscode.commands.registerCommand("shipyard.insertFeatureGet", async (item?: FeatureItem) => {
      const target = item ?? view.selection[0];
      if (!target) {
        void vscode.window.showWarningMessage("Shipyard: pick a feature in the Features view first.");
        return;
      }
      const refs = target.feature ? [`${target.view.name}:${target.feature}`] : target.view.features.map((f) => `${target.view.name}:${f}`);
      await insertCode(featureGetSnippet(refs, target.view.entities[0] ? `${target.view.entities[0]}_id` : "ENTITY"));
    }),
  );
  return tree;
}
