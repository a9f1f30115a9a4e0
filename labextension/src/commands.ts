/** Every Shipyard command, registered in one place; ids live under ``shipyard:``. */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { ShipyardClient } from './api';
import { DeployBodyWidget } from './deploy';
import { pipelineNameFor } from './format';
import { MonitorWidget } from './monitor';
import { selectedCellIds } from './notebook';
import { PromoteBodyWidget } from './promote';

export namespace CommandIDs {
  export const openCopilot = 'shipyard:open-copilot';
  export const openFeatures = 'shipyard:open-features';
  export const promote = 'shipyard:promote';
  export const promoteNotebook = 'shipyard:promote-notebook';
  export const openMonitor = 'shipyard:open-monitor';
  export const deploy = 'shipyard:deploy';
  export const openModels = 'shipyard:open-models';
  export const toggleCellTags = 'shipyard:toggle-cell-tags';
}

export interface CommandContext {
  app: JupyterFrontEnd;
  client: ShipyardClient;
  tracker: INotebookTracker;
  palette: ICommandPalette | null;
  copilot: Widget;
  features: Widget;
  models: Widget;
  /** Whether the per-cell tag chips show, and a way to flip it. */
  cellTags: { shown: () => boolean; toggle: () => void };
}

const CATEGORY = 'Shipyard';

async function promote(ctx: CommandContext, onlySelected: boolean): Promise<void> {
  const panel = ctx.tracker.currentWidget;
  if (!panel) {
    await showDialog({ title: 'Promote to pipeline', body: 'Open a notebook with tagged cells first.', buttons: [Dialog.okButton()] });
    return;
  }
  const path = panel.context.path;
  const body = {
    content: panel.context.model.toJSON(),
    name: pipelineNameFor(path),
    cells: onlySelected ? selectedCellIds(panel) : undefined
  };
  await showDialog({
    title: `Promote ${onlySelected ? 'selected cells' : 'notebook'} to pipeline`,
    body: new PromoteBodyWidget({ client: ctx.client, body }),
    buttons: [Dialog.cancelButton({ label: 'Close' })]
  });
}

/** Open the deploy dialog, optionally for one model and alias. */
export async function deploy(ctx: CommandContext, model?: string, ref?: string): Promise<void> {
  await showDialog({
    title: 'Deploy model',
    body: new DeployBodyWidget({ client: ctx.client, model, modelRef: ref }),
    buttons: [Dialog.cancelButton({ label: 'Close' })]
  });
}

export function registerCommands(ctx: CommandContext): void {
  const { app } = ctx;
  let monitor: MainAreaWidget<MonitorWidget> | null = null;

  app.commands.addCommand(CommandIDs.openCopilot, {
    label: 'Shipyard: Ask Copilot',
    caption: 'Open the Shipyard copilot panel',
    execute: () => app.shell.activateById(ctx.copilot.id)
  });
  app.commands.addCommand(CommandIDs.openFeatures, {
    label: 'Shipyard: Browse Features',
    caption: 'Open the Shipyard feature browser',
    execute: () => app.shell.activateById(ctx.features.id)
  });
  app.commands.addCommand(CommandIDs.promote, {
    label: 'Shipyard: Promote selected cells to pipeline',
    caption: 'Preview, create and run a pipeline from the selected (tagged) cells',
    isEnabled: () => ctx.tracker.currentWidget !== null,
    execute: () => promote(ctx, true)
  });
  app.commands.addCommand(CommandIDs.promoteNotebook, {
    label: 'Shipyard: Promote notebook to pipeline',
    caption: 'Preview, create and run a pipeline from every tagged cell of the notebook',
    isEnabled: () => ctx.tracker.currentWidget !== null,
    execute: () => promote(ctx, false)
  });
  app.commands.addCommand(CommandIDs.openMonitor, {
    label: 'Shipyard: Open Monitoring',
    caption: 'Drift, latency and alerts per deployment',
    execute: () => {
      if (!monitor || monitor.isDisposed) {
        monitor = new MainAreaWidget({ content: new MonitorWidget(ctx.client) });
        monitor.id = 'shipyard-monitor-view';
        monitor.title.label = 'Shipyard Monitoring';
        monitor.title.closable = true;
        app.shell.add(monitor, 'main');
      }
      app.shell.activateById(monitor.id);
    }
  });

  app.commands.addCommand(CommandIDs.deploy, {
    label: 'Shipyard: Deploy model',
    caption: 'Deploy a registered model (alias or version) and watch each deploy stage',
    execute: args => deploy(ctx, args.model as string | undefined, args.ref as string | undefined)
  });
  app.commands.addCommand(CommandIDs.openModels, {
    label: 'Shipyard: Browse Models',
    caption: 'Open the registered models panel',
    execute: () => app.shell.activateById(ctx.models.id)
  });
  app.commands.addCommand(CommandIDs.toggleCellTags, {
    label: 'Shipyard: Show cell tag chips',
    caption: 'Show or hide the pipeline tag chips on every notebook cell',
    isToggled: () => ctx.cellTags.shown(),
    execute: () => ctx.cellTags.toggle()
  });

  for (const command of Object.values(CommandIDs)) {
    ctx.palette?.addItem({ command, category: CATEGORY });
  }
  app.contextMenu.addItem({ command: CommandIDs.promote, selector: '.jp-Notebook .jp-Cell', rank: 100 });
}
